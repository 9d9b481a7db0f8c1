"""Typed parameters of the evaluate pipeline."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cell_dino.config import NonNegativeInt
from cell_dino.evaluation.classifier import ClassifierConfig
from cell_dino.evaluation.scorecard import ScoringSpec
from cell_dino.profiling.finite import NonFinitePolicy


class EvaluateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scoring: ScoringSpec = Field(default_factory=ScoringSpec)
    nonfinite: NonFinitePolicy = "drop"  # rows / features with NaN or inf: dropped and counted, or the run stops
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)
    classifier_max_items: int = Field(50000, ge=2)  # seeded sample of treated items for the MLP
    factors: list[str] = Field(default_factory=lambda: ["Metadata_MoA", "Metadata_Batch", "Metadata_Plate"])
    factor_bins: int = Field(10, ge=2)
    headline_normalisation: str = "tvn"  # the normalisation whose figures lead the report (WS-DINO: TVN)
    seed: NonNegativeInt = 0
