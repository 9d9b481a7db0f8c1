"""The train_dino pipeline, and the shape both training pipelines share."""

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines.train_dino.nodes import plan_training, report_training, tabulate_training

TRAINING_NODE = "plan_training"


def training_pipeline(name: str, run: str) -> Pipeline:
    """``params:<name>`` -> a run planned, trained into ``<run>_checkpoints`` -> its metrics table
    and the ``<name>`` report; nodes in the ``<run>`` namespace (``<run>.plan_training``, ...)."""
    nodes = [
        Node(plan_training, ["crop_store", "fov_store", "fov_table", "params:training"], "checkpoints", name=TRAINING_NODE),
        Node(tabulate_training, "checkpoints", "training_metrics", name="tabulate_training"),
        Node(report_training, "checkpoints", "report", name="report_training"),
    ]
    outputs = {"checkpoints": f"{run}_checkpoints", "training_metrics": f"{run}_training_metrics", "report": f"{name}_report"}
    return Pipeline(
        nodes,
        namespace=run,
        inputs={"crop_store", "fov_store", "fov_table"},
        outputs=outputs,
        parameters={"params:training": f"params:{name}"},
        tags=name,
    )


def create_pipeline(**kwargs) -> Pipeline:
    return training_pipeline("train_dino", "dino")
