"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

from cell_dino.hooks import PublicationHooks, RunRecordHooks

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment overrides single keys of a parameter block rather than replacing the block.
    "merge_strategy": {"parameters": "soft", "globals": "soft"},
}

# pluggy calls the last registered first: the publication hooks release the data root before the run record is saved
HOOKS = (RunRecordHooks(default_env=CONFIG_LOADER_ARGS["default_run_env"]), PublicationHooks())
