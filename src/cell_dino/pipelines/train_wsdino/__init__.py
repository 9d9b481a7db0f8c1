"""train_wsdino: weakly supervised DINO (local crops from another image with the same weak label)."""

from cell_dino.pipelines.train_wsdino.pipeline import create_pipeline

__all__ = ["create_pipeline"]
