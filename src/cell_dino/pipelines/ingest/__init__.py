"""ingest: real data-set layouts -> validated FOV manifest -> preprocessed FOV store."""

from cell_dino.pipelines.ingest.pipeline import create_pipeline

__all__ = ["create_pipeline"]
