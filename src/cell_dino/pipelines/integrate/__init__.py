"""integrate: embeddings -> FOV, well and treatment profiles under each normalisation, UMAP."""

from cell_dino.pipelines.integrate.pipeline import create_pipeline

__all__ = ["create_pipeline"]
