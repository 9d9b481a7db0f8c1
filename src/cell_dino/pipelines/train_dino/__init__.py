"""train_dino: self-supervised DINO on single cells or whole fields."""

from cell_dino.pipelines.train_dino.pipeline import create_pipeline

__all__ = ["create_pipeline"]
