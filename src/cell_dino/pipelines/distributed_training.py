"""``cell-dino train``: a training pipeline run so that ``torchrun`` can start it in every process
(DDP, one or many nodes) with the project's catalog and validated parameters. Every process runs
the training node through an ordinary Kedro session; then the main process (rank 0) runs the
pipeline's other nodes (metrics table, report). Only the main process journals outputs and
records runs (see :mod:`cell_dino.hooks`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from cell_dino.pipelines.train_dino.pipeline import TRAINING_NODE
from cell_dino.publication import is_main_process

RUNS = {"train_dino": "dino", "train_wsdino": "wsdino"}


def run_training(pipeline_name: str, env: str | None, runtime_params: dict[str, Any], project: Path) -> None:
    if pipeline_name not in RUNS:
        raise ValueError(f"--pipeline must be one of {sorted(RUNS)}, got {pipeline_name!r}")
    bootstrap_project(project)
    training = f"{RUNS[pipeline_name]}.{TRAINING_NODE}"
    with KedroSession.create(project_path=project, env=env, runtime_params=runtime_params) as session:
        session.run(pipeline_names=[pipeline_name], node_names=[training])
    if is_main_process():
        later = [n.name for n in pipelines[pipeline_name].nodes if n.name != training]
        with KedroSession.create(project_path=project, env=env, runtime_params=runtime_params) as session:
            session.run(pipeline_names=[pipeline_name], node_names=later)
