"""The segment pipeline."""

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines.segment.nodes import plan_segmentation, report_segment, score_segmentation, tabulate_cells


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(plan_segmentation, ["fov_store", "fov_table", "params:segment", "params:runtime"], "crop_store", name="plan_segmentation"),
            Node(tabulate_cells, "crop_store", "cell_table", name="tabulate_cells"),
            Node(score_segmentation, ["crop_store", "fov_table", "params:segment"], "segmentation_accuracy", name="score_segmentation"),
            Node(report_segment, ["crop_store", "segmentation_accuracy"], "segment_report", name="report_segment"),
        ],
        tags="segment",
    )
