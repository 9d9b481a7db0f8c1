"""The train_dino pipeline, and the shape both training pipelines share."""

from collections.abc import Callable

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines.train_dino.nodes import plan_dino, report_training, tabulate_training


def training_pipeline(name: str, models: str, plan: Callable) -> Pipeline:
    """plan -> checkpoints (``<models>_checkpoints``) -> metrics table and ``<name>`` report."""
    checkpoints = f"{models}_checkpoints"
    return Pipeline(
        [
            Node(plan, ["crop_store", "fov_store", "fov_table", f"params:{name}"], checkpoints, name=name),
            Node(tabulate_training, checkpoints, f"{models}_training_metrics", name=f"tabulate_{models}_training"),
            Node(report_training, checkpoints, f"{name}_report", name=f"report_{models}_training"),
        ],
        tags=name,
    )


def create_pipeline(**kwargs) -> Pipeline:
    return training_pipeline("train_dino", "dino", plan_dino)
