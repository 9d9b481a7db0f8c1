"""The integrate pipeline: per model namespace, embeddings -> FOV -> well -> treatment profiles
under each normalisation, a UMAP of the items, and the items as AnnData (.h5ad)."""

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines.integrate.nodes import embed_umap, export_anndata, integrate_profiles, report_integration
from cell_dino.registry import MODELS


def model_pipeline(model: str) -> Pipeline:
    nodes = [
        Node(integrate_profiles, ["embeddings", "params:integrate"], ["profiles", "integration"], name="integrate_profiles"),
        Node(embed_umap, ["embeddings", "params:integrate"], ["umap", "umap_record"], name="embed_umap"),
        Node(export_anndata, ["embeddings", "umap", "params:integrate"], "anndata", name="export_anndata"),
        Node(report_integration, ["profiles", "integration", "umap", "umap_record"], "integrate_report", name="report_integration"),
    ]
    return Pipeline(nodes, namespace=model, parameters={"params:integrate"})


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([model_pipeline(m.name) for m in MODELS], tags="integrate")
