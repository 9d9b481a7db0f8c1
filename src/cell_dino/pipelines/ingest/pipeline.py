"""The ingest pipeline."""

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines.ingest.nodes import build_fov_manifest, plan_preprocessing, report_ingest, tabulate_fovs


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(build_fov_manifest, "params:ingest", "fov_manifest", name="build_fov_manifest"),
            Node(plan_preprocessing, ["fov_manifest", "params:ingest", "params:runtime"], "fov_store", name="plan_preprocessing"),
            Node(tabulate_fovs, ["fov_manifest", "fov_store"], "fov_table", name="tabulate_fovs"),
            Node(report_ingest, ["fov_manifest", "fov_store"], "ingest_report", name="report_ingest"),
        ],
        tags="ingest",
    )
