"""The train_dino pipeline."""

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines.train_dino.nodes import plan_dino, report_training, tabulate_training


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(plan_dino, ["crop_store", "fov_store", "fov_table", "params:train_dino"], "dino_checkpoints", name="train_dino"),
            Node(tabulate_training, "dino_checkpoints", "dino_training_metrics", name="tabulate_dino_training"),
            Node(report_training, "dino_checkpoints", "train_dino_report", name="report_dino_training"),
        ],
        tags="train_dino",
    )
