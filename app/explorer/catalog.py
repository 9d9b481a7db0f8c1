"""Reading a run's outputs through the Kedro catalog of one environment, without torch or the
pipelines: OmegaConfigLoader + DataCatalog, each dataset cached until its files change.

Only names from the catalog and environments found under ``conf/`` are ever used: nothing typed
into the app becomes a path."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog
from omegaconf.errors import InterpolationResolutionError

from cell_dino.core.secrets import redact
from cell_dino.registry import MODEL_NAMES as MODELS
from cell_dino.registry import PIPELINES, producing_pipeline
from cell_dino.settings import CONFIG_LOADER_ARGS

__all__ = ["MODELS", "PIPELINES"]


def project() -> Path:
    """The project folder: ``CELL_DINO_PROJECT`` if set, else the checkout the app sits in."""
    return Path(os.environ.get("CELL_DINO_PROJECT", Path(__file__).resolve().parents[2]))


class Missing(Exception):
    """An output that has not been made yet; the message names the run that makes it."""


DEFAULT_ENV = "local"  # the demo's environment (data/), Kedro's default run environment


def environments() -> list[str]:
    """The environments under ``conf/`` besides base, the one shown first leading:
    ``CELL_DINO_ENV`` when it names one, else ``local``."""
    names = sorted(p.name for p in (project() / "conf").iterdir() if p.is_dir() and p.name != "base")
    first = requested_environment() if requested_environment() in names else DEFAULT_ENV
    return sorted(names, key=lambda n: n != first)


def requested_environment() -> str:
    return os.environ.get("CELL_DINO_ENV", DEFAULT_ENV)


def unknown_environment() -> str | None:
    """A warning when ``CELL_DINO_ENV`` names no environment under ``conf/``."""
    requested, known = requested_environment(), environments()
    if requested in known:
        return None
    return f"CELL_DINO_ENV is `{requested}`, which is not an environment under conf/ ({', '.join(known)}); showing `{known[0]}`"


def _absolute(config: Any, root: Path) -> Any:
    """Relative ``filepath`` / ``path`` entries made absolute against the project root."""
    if isinstance(config, dict):
        return {
            k: str(root / v) if k in ("filepath", "path") and isinstance(v, str) and not Path(v).is_absolute() else _absolute(v, root)
            for k, v in config.items()
        }
    return config


def _loader(root: Path, env: str) -> OmegaConfigLoader:
    if env not in environments():
        raise ValueError(f"unknown environment {env!r}; have {environments()}")
    args = {**CONFIG_LOADER_ARGS, "default_run_env": env}
    return OmegaConfigLoader(str(root / "conf"), env=env, **args)


@st.cache_resource(show_spinner=False)
def _catalog(root: str, env: str) -> DataCatalog:
    return DataCatalog.from_config(_absolute(_loader(Path(root), env)["catalog"], Path(root)))


def catalog(env: str) -> DataCatalog:
    return _catalog(str(project()), env)


class NeedsRuntimeParameters(Exception):
    """The environment's configuration takes values given at ``kedro run --params`` (e.g. ``root``)."""


@st.cache_data(show_spinner=False)
def _parameters(root: str, env: str) -> dict:
    try:
        return redact(dict(_loader(Path(root), env)["parameters"]))
    except InterpolationResolutionError as error:
        raise NeedsRuntimeParameters(
            f"the parameters of env `{env}` take values given at run time ({str(error).splitlines()[0]}); "
            "each pipeline's last run record below shows the values it ran with"
        ) from error


def parameters(env: str) -> dict:
    """The environment's parameters as configured, secrets hidden; raises
    :class:`NeedsRuntimeParameters` when they need values given at run time."""
    return _parameters(str(project()), env)


def output_path(env: str, name: str) -> Path:
    described = catalog(env).get(name)._describe()
    return Path(str(described.get("filepath") or described.get("path")))


def modified(path: Path) -> float:
    """Latest modification time under ``path`` (0 when absent): the cache key of a dataset."""
    if not path.exists():
        return 0.0
    if path.is_file():
        return path.stat().st_mtime
    return max([path.stat().st_mtime, *(p.stat().st_mtime for p in path.rglob("*"))])


def produced_by(env: str, name: str) -> str | None:
    """The pipeline that writes ``name``: a training run's, as the registry says; else as its
    catalog entry says (``metadata.cell-dino.pipeline``)."""
    if name.endswith("_run"):
        return name.removesuffix("_run")
    if (pipeline := producing_pipeline(name)) is not None:
        return pipeline
    dataset = catalog(env).get(name)
    return None if dataset is None else ((dataset.metadata or {}).get("cell-dino") or {}).get("pipeline")


def run_command(env: str, name: str) -> str:
    flag = "" if env == "local" else f" -e {env}"
    return f"kedro run{flag} --pipeline {produced_by(env, name) or '<the pipeline that writes it>'}"


@st.cache_resource(show_spinner=False, max_entries=64)
def _load(root: str, env: str, name: str, stamp: float) -> Any:
    data = _catalog(root, env).load(name)
    if isinstance(data, dict) and data and all(callable(v) for v in data.values()):  # partitions
        return {key: load() for key, load in sorted(data.items())}
    return data


def load(env: str, name: str) -> Any:
    """``name`` from the catalog, reloaded when its files change; :class:`Missing` if absent."""
    if name not in catalog(env):
        raise Missing(f"`{name}` is not in the catalog of env `{env}`")
    stamp = modified(output_path(env, name))
    if not stamp:
        raise Missing(f"`{name}` has not been made yet: run `{run_command(env, name)}`")
    try:
        return _load(str(project()), env, name, stamp)
    except FileNotFoundError as error:
        raise Missing(f"`{name}` is not complete ({error}): run `{run_command(env, name)}`") from error


def show(env: str, name: str, render: Callable[[Any], None] | None = None) -> Any:
    """Load ``name``; if missing, say which run makes it and return None (never a stack trace)."""
    try:
        data = load(env, name)
    except Missing as missing:
        st.info(str(missing))
        return None
    if render is not None:
        render(data)
    return data
