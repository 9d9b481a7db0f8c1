"""segment: FOV store -> nuclei and cell masks -> single-cell crop store and cell table."""

from cell_dino.pipelines.segment.pipeline import create_pipeline

__all__ = ["create_pipeline"]
