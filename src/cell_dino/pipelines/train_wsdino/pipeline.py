"""The train_wsdino pipeline."""

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines.train_dino.nodes import plan_wsdino, report_training, tabulate_training


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(plan_wsdino, ["crop_store", "fov_store", "fov_table", "params:train_wsdino"], "wsdino_checkpoints", name="train_wsdino"),
            Node(tabulate_training, "wsdino_checkpoints", "wsdino_training_metrics", name="tabulate_wsdino_training"),
            Node(report_training, "wsdino_checkpoints", "train_wsdino_report", name="report_wsdino_training"),
        ],
        tags="train_wsdino",
    )
