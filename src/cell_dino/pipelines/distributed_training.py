"""``cell-dino train``: a training pipeline run so that ``torchrun`` can start it in every process
(DDP, one or many nodes) with the project's catalog and validated parameters. Every process runs
the training node through an ordinary Kedro session; then the main process (rank 0) runs the
pipeline's other nodes (metrics tables, reports). Only the main process journals outputs and
records runs (see :mod:`cell_dino.hooks`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from cell_dino.publication import is_main_process
from cell_dino.registry import TRAINING_PIPELINES, training_runs


def run_training(
    pipeline_name: str, env: str | None, runtime_params: dict[str, Any], project: Path, namespaces: list[str] | None = None
) -> None:
    """Every process trains the runs of ``pipeline_name`` (those in ``namespaces`` when given); then
    the main process writes their metrics tables and reports."""
    if pipeline_name not in TRAINING_PIPELINES:
        raise ValueError(f"--pipeline must be one of {list(TRAINING_PIPELINES)}, got {pipeline_name!r}")
    runs = [run for run in training_runs(pipeline_name) if not namespaces or run.name in namespaces]
    if not runs:
        raise ValueError(f"--namespaces {namespaces} names none of {pipeline_name}'s runs {[r.name for r in training_runs(pipeline_name)]}")
    names, checkpoints = [run.name for run in runs], [run.checkpoints for run in runs]
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env, runtime_params=runtime_params) as session:
        session.run(pipeline_names=[pipeline_name], namespaces=names, to_outputs=checkpoints)
    if is_main_process():
        with KedroSession.create(project_path=project, env=env, runtime_params=runtime_params) as session:
            session.run(pipeline_names=[pipeline_name], namespaces=names, from_inputs=checkpoints)
