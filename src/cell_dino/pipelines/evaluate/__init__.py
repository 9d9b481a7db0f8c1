"""evaluate: profiles and embeddings -> NSC/NSCB, mAP, k-NN, MLP macro-F1, MI factors, epoch choice."""

from cell_dino.pipelines.evaluate.pipeline import create_pipeline

__all__ = ["create_pipeline"]
