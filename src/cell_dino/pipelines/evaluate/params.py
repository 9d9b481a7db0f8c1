"""Typed parameters of the evaluate pipeline."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cell_dino.evaluation.classifier import ClassifierConfig


class EvaluateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = "Metadata_MoA"
    group: str = "Metadata_Compound"  # never in both train and test; left out of k-NN and NSC
    knn_k: int = 1
    map_null_size: int = 10000
    map_threshold: float = 0.05
    map_batch_size: int = 20000
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)
    classifier_max_items: int = 50000  # seeded sample of treated items for the MLP
    factors: list[str] = Field(default_factory=lambda: ["Metadata_MoA", "Metadata_Batch", "Metadata_Plate"])
    factor_bins: int = 10
    headline_normalisation: str = "tvn"  # the normalisation whose figures lead the report (WS-DINO: TVN)
    seed: int = 0
