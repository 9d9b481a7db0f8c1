"""Typed parameters of the evaluate pipeline."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from cell_dino.core.config import Count, NonNegativeInt
from cell_dino.evaluate.classifier import ClassifierConfig
from cell_dino.evaluate.scorecard import ScoringSpec
from cell_dino.integrate.finite import NonFinitePolicy
from cell_dino.integrate.normalise import Method
from cell_dino.pipelines.params import Params


class ClassificationTask(Params):
    label: str  # the column predicted (single-label)
    group: str  # never split across folds


class EvaluateParams(Params):
    scoring: ScoringSpec
    nonfinite: NonFinitePolicy  # rows / features with NaN or inf: dropped and counted, or the run stops
    classifier: ClassifierConfig
    classifier_label: str | None  # the column the MLP predicts (labels joined by | : multi-label, BCE); None: scoring.label
    other_classifications: dict[str, ClassificationTask]  # more MLP tasks, by name (HPA: cell line); accuracy and macro-F1
    classifier_max_items: Annotated[int, Field(ge=2)]  # seeded sample of treated items for the MLP
    factors: list[str]  # the factors of the MI analysis (those the items have)
    factor_bins: Annotated[int, Field(ge=2)]
    headline_normalisation: str  # the normalisation whose figures lead the report (WS-DINO: TVN)
    epoch_normalisation: Method  # the profiles each checkpoint is scored on (made as integrate makes them)
    epoch_window: Count  # the last checkpoints whose NSC / NSCB are averaged (WS-DINO's Table 2)
    seed: NonNegativeInt
