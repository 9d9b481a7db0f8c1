"""Typed parameters of the sweep pipeline."""

from __future__ import annotations

from typing import Literal

from cell_dino.core.config import Count, Fraction, NonNegativeInt, Positive
from cell_dino.pipelines.params import Params
from cell_dino.sweep.objective import TrialBudget
from cell_dino.sweep.space import Dimension


class SamplerParams(Params):
    seed: NonNegativeInt
    n_startup_trials: NonNegativeInt  # random proposals before TPE


class PrunerParams(Params):
    n_startup_trials: NonNegativeInt  # trials run to the end before any is pruned
    n_warmup_steps: NonNegativeInt  # epochs of a trial before it may be pruned


class ValidationParams(Params):
    label: str
    group: str  # left out of each query's neighbours
    share: Fraction  # of the labels with two groups or more (at least two labels)
    controls: list[str]
    seed: NonNegativeInt


class SweepParams(Params):
    study_name: str
    trials_dir: str  # scratch folder of the running trial's checkpoints (removed after each trial)
    n_trials: Count  # added by one run; a second run continues the study
    timeout: Positive | None  # seconds for one run
    direction: Literal["maximize", "minimize"]
    sampler: SamplerParams
    pruner: PrunerParams
    validation: ValidationParams
    trial: TrialBudget
    space: dict[str, Dimension]
