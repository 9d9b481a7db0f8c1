"""Nodes of the sweep pipeline: run (or continue) the study, then read its results."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RDBStorage
import pandas as pd
import plotly.graph_objects as go
from optuna.visualization import plot_optimization_history, plot_param_importances

from cell_dino.pipelines.sweep.params import SweepParams
from cell_dino.pipelines.train_dino.params import TrainDinoParams
from cell_dino.reporting import peak_rss_mb
from cell_dino.ssl.training_data import store_and_table, training_data
from cell_dino.sweep.objective import Objective, Validation
from cell_dino.sweep.space import check_space, overrides
from cell_dino.sweep.split import validation_split
from cell_dino.sweep.study import described, open_study

log = logging.getLogger(__name__)


def run_sweep(crop_store: Any, fov_store: Any, fov_table: pd.DataFrame, rdb: RDBStorage, train: TrainDinoParams,
              params: SweepParams) -> tuple[optuna.Study, dict]:  # fmt: skip
    """Add ``n_trials`` trials to the study in ``rdb``; returns the study and its record (name,
    storage with the password hidden). The validation split and this run's time are kept in the
    study's user attributes."""
    check_space(train.train, params.space)
    data = training_data(train.unit, crop_store, fov_store, fov_table)
    train.train.check(data.channels)
    _, images, table = store_and_table(train.unit, crop_store, fov_store, fov_table)
    v = params.validation
    split = validation_split(table, v.label, v.group, v.share, v.controls, v.seed)
    log.info("sweep validation: %s %s (%d groups); test, never scored: %s", v.label, split.validation_labels,
             len(split.validation_groups), split.test_labels)  # fmt: skip
    validation = Validation.of(images, table, split, params.trial.max_validation_items, params.trial.seed)
    study = open_study(params.study_name, rdb, params.direction, params.sampler.seed, params.sampler.n_startup_trials,
                       params.pruner.n_startup_trials, params.pruner.n_warmup_steps)  # fmt: skip
    log.info("study %s in %s: %d trials so far", params.study_name, described(rdb), len(study.trials))
    study.set_user_attr("validation", vars(split))
    started = time.perf_counter()
    study.optimize(Objective(data, train.train, params.space, validation, params.trial, Path(params.trials_dir)), n_trials=params.n_trials,
                   timeout=params.timeout, catch=(FloatingPointError,))  # fmt: skip
    study.set_user_attr("seconds_last_run", time.perf_counter() - started)
    return study, {"study_name": params.study_name, "storage": described(rdb), "direction": params.direction}


def tabulate_trials(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, value, parameters, timings."""
    table = study.trials_dataframe(attrs=("number", "value", "state", "params", "datetime_start", "datetime_complete", "duration"))
    if "duration" in table:
        table["duration"] = table["duration"].dt.total_seconds()
    return table


def _completed(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def best_parameters(study: optuna.Study, train: TrainDinoParams) -> dict:
    """The best trial's augmentations as a ``train_dino`` parameter override (a YAML file that can
    go to ``conf/<env>/parameters_train_dino_sweep.yml``)."""
    if not _completed(study):
        raise ValueError(f"study {study.study_name!r} has no completed trial yet; run more trials")
    return {"train_dino": {"train": overrides(train.train, study.best_trial.params)}}


def plot_sweep(study: optuna.Study) -> tuple[go.Figure, go.Figure]:
    """Optimisation history and fANOVA parameter importances (from optuna.visualization)."""
    history = plot_optimization_history(study)
    if len(_completed(study)) < 2:
        return history, go.Figure().update_layout(title="parameter importances need two completed trials")
    return history, plot_param_importances(study)


def report_sweep(study: optuna.Study) -> dict:
    """``08_reporting/sweep.json``: trial counts by state, the best trial, this run's time."""
    states = pd.Series([t.state.name for t in study.trials]).value_counts().to_dict()
    completed = _completed(study)
    best = {"number": study.best_trial.number, "value": study.best_value, "params": study.best_trial.params} if completed else None
    return {"n_inputs": len(study.trials), "n_outputs": len(completed), "study": study.study_name, "trials_by_state": states,
            "best": best, "seconds_last_run": study.user_attrs.get("seconds_last_run"), "validation": study.user_attrs.get("validation"),
            "peak_rss_mb": peak_rss_mb()}  # fmt: skip
