"""The base of every pipeline's typed parameters: each value comes from ``conf/`` (a field has no
default here, so there is one source of truth), a misspelt key is refused, and Kedro checks them
before any node runs. Library settings nested inside (``TrainConfig``, ``SegmentConfig``, ...)
keep the papers' defaults; the parameter files state where a recipe deviates."""

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


P = TypeVar("P", bound=Params)


def load_parameters(
    name: str,
    model: type[P],
    project: Path,
    env: str | None = None,
    overrides: dict[str, Any] | None = None,
    runtime_params: dict[str, Any] | None = None,
) -> P:
    """The parameter block ``name`` of ``project``'s ``conf/`` (``base``, then ``env`` over it, then
    ``overrides``; ``runtime_params`` as ``kedro run --params`` gives them), validated as ``model``:
    what ``kedro run`` would pass a node (for scripts and tests)."""
    from kedro.config import OmegaConfigLoader
    from omegaconf import OmegaConf

    from cell_dino.settings import CONFIG_LOADER_ARGS

    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    block = OmegaConfigLoader(str(Path(project) / "conf"), env=env or "base", runtime_params=runtime_params, **args)["parameters"][name]
    merged = OmegaConf.to_container(OmegaConf.merge(OmegaConf.create(block), OmegaConf.create(overrides or {})))
    return model.model_validate(merged)
