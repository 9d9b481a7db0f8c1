"""Typed parameters of the sweep pipeline."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cell_dino.config import Count, Fraction, NonNegativeInt, Positive
from cell_dino.sweep.objective import TrialBudget
from cell_dino.sweep.space import Dimension


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SamplerParams(Strict):
    seed: NonNegativeInt = 0
    n_startup_trials: NonNegativeInt = 5  # random proposals before TPE


class PrunerParams(Strict):
    n_startup_trials: NonNegativeInt = 3  # trials run to the end before any is pruned
    n_warmup_steps: NonNegativeInt = 1  # epochs of a trial before it may be pruned


class ValidationParams(Strict):
    label: str = "Metadata_MoA"
    group: str = "Metadata_Compound"  # left out of each query's neighbours
    share: Fraction = 0.5  # of the labels with two groups or more (at least two labels)
    controls: list[str] = Field(default_factory=lambda: ["DMSO"])
    seed: NonNegativeInt = 0


class SweepParams(Strict):
    study_name: str = "train_dino_augment"
    trials_dir: str  # scratch folder of the running trial's checkpoints (removed after each trial)
    n_trials: Count = 20  # added by one run; a second run continues the study
    timeout: Positive | None = None  # seconds for one run
    direction: Literal["maximize", "minimize"] = "maximize"
    sampler: SamplerParams = Field(default_factory=SamplerParams)
    pruner: PrunerParams = Field(default_factory=PrunerParams)
    validation: ValidationParams = Field(default_factory=ValidationParams)
    trial: TrialBudget = Field(default_factory=TrialBudget)
    space: dict[str, Dimension]
