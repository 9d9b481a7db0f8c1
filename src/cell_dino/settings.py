"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

from cell_dino.hooks import RunRecordHooks

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment overrides single keys of a parameter block rather than replacing the block.
    "merge_strategy": {"parameters": "soft", "globals": "soft"},
}

HOOKS = (RunRecordHooks(default_env=CONFIG_LOADER_ARGS["default_run_env"]),)
