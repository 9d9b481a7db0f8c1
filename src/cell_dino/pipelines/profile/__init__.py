"""profile: similarity structure, cross-modal agreement, pseudotime, heterogeneity, attention."""

from cell_dino.pipelines.profile.pipeline import create_pipeline

__all__ = ["create_pipeline"]
