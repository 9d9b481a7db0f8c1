"""sweep: Optuna sweeps of the train_dino augmentations."""

from cell_dino.pipelines.sweep.pipeline import create_pipeline

__all__ = ["create_pipeline"]
