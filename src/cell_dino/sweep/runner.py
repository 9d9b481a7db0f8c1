"""Adding trials to a sweep study: the items read once, the validation items held apart, each trial
trained and scored by :class:`~cell_dino.sweep.objective.Objective`."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import optuna

from cell_dino.data.items import Items
from cell_dino.sweep.objective import Objective, TrialBudget, Validation
from cell_dino.sweep.space import Dimension
from cell_dino.sweep.split import ValidationSplit
from cell_dino.train.train_config import TrainConfig
from cell_dino.train.training_data import training_data

log = logging.getLogger(__name__)


def add_trials(
    study: optuna.Study,
    items: Items,
    config: TrainConfig,
    space: dict[str, Dimension],
    split: ValidationSplit,
    budget: TrialBudget,
    trials_dir: Path,
    n_trials: int,
    timeout: float | None,
) -> None:
    """Run ``n_trials`` more trials (or until ``timeout`` seconds); the validation split and this
    run's time are kept in the study's user attributes. A trial whose loss is not finite fails and
    the study goes on."""
    data = training_data(items)
    config.check(data.channels)
    log.info(
        "sweep validation: %s %s (%d groups); test, never scored: %s",
        split.label,
        split.validation_labels,
        len(split.validation_groups),
        split.test_labels,
    )
    validation = Validation.of(items.images, items.table, split, budget.max_validation_items, budget.seed)
    study.set_user_attr("validation", vars(split))
    started = time.perf_counter()
    study.optimize(
        Objective(data, config, space, validation, budget, Path(trials_dir)),
        n_trials=n_trials,
        timeout=timeout,
        catch=(FloatingPointError,),
    )
    study.set_user_attr("seconds_last_run", time.perf_counter() - started)
