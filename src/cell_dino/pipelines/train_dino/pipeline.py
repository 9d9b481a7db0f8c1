"""The train_dino pipeline, and the shape both training pipelines share."""

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines.train_dino.nodes import plan_training, report_training, tabulate_training
from cell_dino.registry import TrainingRun, training_runs

TRAINING_NODE = "plan_training"


def run_pipeline(run: TrainingRun) -> Pipeline:
    """``params:<parameters>`` -> a run planned, trained into ``<name>_checkpoints`` -> its metrics
    table and the ``<parameters>`` report; nodes in the ``<name>`` namespace (``<name>.plan_training``, ...)."""
    nodes = [
        Node(plan_training, ["crop_store", "fov_store", "fov_table", "params:training"], "checkpoints", name=TRAINING_NODE),
        Node(tabulate_training, "checkpoints", "training_metrics", name="tabulate_training"),
        Node(report_training, "checkpoints", "report", name="report_training"),
    ]
    outputs = {
        "checkpoints": f"{run.name}_checkpoints",
        "training_metrics": f"{run.name}_training_metrics",
        "report": f"{run.parameters}_report",
    }
    return Pipeline(
        nodes,
        namespace=run.name,
        inputs={"crop_store", "fov_store", "fov_table"},
        outputs=outputs,
        parameters={"params:training": f"params:{run.parameters}"},
        tags=run.pipeline,
    )


def training_pipeline(name: str) -> Pipeline:
    """The pipeline ``name``: every run the registry trains in it."""
    return Pipeline([run_pipeline(run) for run in training_runs(name)])


def create_pipeline(**kwargs) -> Pipeline:
    return training_pipeline("train_dino")
