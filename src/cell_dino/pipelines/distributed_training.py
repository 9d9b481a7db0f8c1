"""Run a training pipeline's training node outside ``kedro run``, so that ``torchrun`` can start it
in every process (DDP, one or many nodes) with the project's own catalog and validated parameters.
Rank 0 then runs the pipeline's remaining nodes (metrics table, report)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

TRAINING_NODES = {"train_dino": "train_dino", "train_wsdino": "train_wsdino"}


def run_training(pipeline_name: str, env: str | None, runtime_params: dict[str, Any], project: Path) -> None:
    if pipeline_name not in TRAINING_NODES:
        raise ValueError(f"--pipeline must be one of {sorted(TRAINING_NODES)}, got {pipeline_name!r}")
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env, runtime_params=runtime_params) as session:
        context = session.load_context()
        pipeline = pipelines[pipeline_name]
        node = next(n for n in pipeline.nodes if n.name == TRAINING_NODES[pipeline_name])
        inputs = {
            name: context.params[name.removeprefix("params:")] if name.startswith("params:") else context.catalog.load(name)
            for name in node.inputs
        }
        for name, run in node.run(inputs).items():
            context.catalog.save(name, run)
    if int(os.environ.get("RANK", "0")) == 0:
        later = [n.name for n in pipeline.nodes if n.name != node.name]
        with KedroSession.create(project_path=project, env=env, runtime_params=runtime_params) as session:
            session.run(pipeline_names=[pipeline_name], node_names=later)
