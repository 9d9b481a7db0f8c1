"""Temporary copies of the project (their own conf/ and data/) and running pipelines in them."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from cell_dino.pipelines.params import P, load_parameters
from cell_dino.registry import PIPELINES

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CELL_DINO_SHARED", REPO.parent / "shared")) / "data"  # the real tables (../shared)
CHAIN = PIPELINES  # every pipeline, in the order make demo runs them
TINY_TRAIN = {  # a one-block ViT-Ti and one epoch: the wiring of training, not its quality
    "backbone": {"arch": "vit_tiny", "patch_size": 8, "img_size": 32, "depth": 1},
    "head": {"out_dim": 256, "hidden_dim": 64, "bottleneck_dim": 32},
    "optim": {"epochs": 1, "batch_size": 16, "warmup_epochs": 0},
    "augment": {"global_crops": {"size": 32}, "local_crops": {"number": 2, "size": 16}},
}
# runtime parameters over a data set's env for a chain run on its miniature in CI
TINY_CHAIN = {
    "train_dino": {"train": TINY_TRAIN},
    "train_wsdino": {"train": TINY_TRAIN | {"runtime": {"checkpoint_every": 1}}},
    "embed": {"attention_samples": 8},  # the env's 256 items' attention maps and patch tokens: the profile analyses' wiring
    "evaluate": {"scoring": {"map_null_size": 100}, "classifier": {"epochs": 20, "n_splits": 2}},
    "sweep": {"n_trials": 2, "trial": {"epochs": 1, "max_items": 200, "max_validation_items": 200}},
}


def make_project(root: Path, phantom: Path | None = None) -> Path:
    """conf/ (an empty local env) and pyproject.toml in ``root``; the test phantom at the test
    env's raw data root when given."""
    shutil.copy(REPO / "pyproject.toml", root)
    (root / "src").mkdir()  # the package itself is installed
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    if phantom is not None:
        shutil.copytree(phantom, root / "data" / "test" / "01_raw" / "phantom")
    return root


def run_pipeline(
    project: Path, name: str, env: str = "test", params: dict[str, Any] | None = None, namespaces: list[str] | None = None
) -> None:
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env, runtime_params=params) as session:
        session.run(pipeline_names=[name], namespaces=namespaces)


def run_every_pipeline(project: Path, env: str, params: dict[str, Any]) -> None:
    """``kedro run -e env --params ...`` of every pipeline in chain order, from within ``project``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        patch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
        for name in CHAIN:
            run_pipeline(project, name, env=env, params=params)


def run_on_miniature(factory: pytest.TempPathFactory, env: str, write: Callable[[Path], Any], params: dict[str, Any]) -> tuple[Path, Any]:
    """A fresh project and a miniature data set (``write(root)``, whose result is returned beside
    the project), and every pipeline run on it with ``-e env``."""
    project = make_project(factory.mktemp(f"{env}_project"))
    root = factory.mktemp(f"{env}_data")
    made = write(root)
    run_every_pipeline(project, env, {"root": str(root)} | params)
    return project, made


def read_report(project: Path, env: str, name: str) -> dict:
    """``data/<env>/08_reporting/<name>.json`` of ``project`` (the env's data root)."""
    return json.loads((project / "data" / env / "08_reporting" / f"{name}.json").read_text())


def parameters(name: str, model: type[P], env: str = "test", **overrides: Any) -> P:
    """The parameter block ``name`` of this project's ``conf/`` (``base`` then ``env``) with
    ``overrides`` over it, validated as ``model``: what a node gets from ``kedro run -e env``."""
    return load_parameters(name, model, REPO, env, overrides)
