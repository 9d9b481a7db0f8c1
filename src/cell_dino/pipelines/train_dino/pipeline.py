"""The train_dino pipeline, and the shape both training pipelines share."""

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines import bound
from cell_dino.pipelines.train_dino.nodes import plan_training, report_training, tabulate_training, with_mode, with_weak_labels
from cell_dino.registry import TrainingSpec, training_runs

TRAINING_NODE = "plan_training"


def run_pipeline(run: TrainingSpec) -> Pipeline:
    """``params:<parameters>`` (with the weak labels of ``params:<weak_labels_from>``, in the run's
    ``mode`` when it has one) -> a run planned, trained into ``<name>_checkpoints`` -> its metrics
    table and the ``train_<name>`` report; nodes in the ``<name>`` namespace (``<name>.plan_training``, ...)."""
    parameters = {"params:training": f"params:{run.parameters}"}
    setup, training = [], "params:training"
    if run.weak_labels_from is not None:
        parameters["params:weak"] = f"params:{run.weak_labels_from}"
        setup, training = (
            [Node(with_weak_labels, ["params:training", "params:weak"], "weak_training", name="with_weak_labels")],
            "weak_training",
        )
    if run.mode is not None:
        setup.append(Node(bound(with_mode, mode=run.mode), training, "run_training", name="with_mode"))
        training = "run_training"
    nodes = [
        *setup,
        Node(plan_training, ["crop_store", "fov_store", "fov_table", training], "checkpoints", name=TRAINING_NODE),
        Node(tabulate_training, "checkpoints", "training_metrics", name="tabulate_training"),
        Node(report_training, "checkpoints", "report", name="report_training"),
    ]
    outputs = {"checkpoints": run.checkpoints, "training_metrics": run.metrics, "report": run.report}
    return Pipeline(
        nodes,
        namespace=run.name,
        inputs={"crop_store", "fov_store", "fov_table"},
        outputs=outputs,
        parameters=parameters,
        tags=run.pipeline,
    )


def training_pipeline(name: str) -> Pipeline:
    """The pipeline ``name``: every run the registry trains in it."""
    return Pipeline([run_pipeline(run) for run in training_runs(name)])


def create_pipeline(**kwargs) -> Pipeline:
    return training_pipeline("train_dino")
