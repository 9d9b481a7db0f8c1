"""embed: checkpoints -> teacher features of every item, attention samples, per-epoch profiles."""

from cell_dino.pipelines.embed.pipeline import create_pipeline

__all__ = ["create_pipeline"]
