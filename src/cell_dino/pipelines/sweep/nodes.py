"""Nodes of the sweep pipeline: run (or continue) the study, then read its results."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import plotly.graph_objects as go
from optuna.storages import RDBStorage
from optuna.visualization import plot_optimization_history, plot_param_importances

from cell_dino.core.reporting import run_report
from cell_dino.data.items import Items
from cell_dino.pipelines.sweep.params import SweepParams
from cell_dino.pipelines.train_dino.params import TrainingParams
from cell_dino.sweep.runner import add_trials
from cell_dino.sweep.space import check_space, overrides
from cell_dino.sweep.split import validation_split
from cell_dino.sweep.study import completed_trials, described, open_study, study_summary, trials_table

log = logging.getLogger(__name__)


def run_sweep(
    crop_store: Any, fov_store: Any, fov_table: pd.DataFrame, rdb: RDBStorage, train: TrainingParams, params: SweepParams
) -> tuple[optuna.Study, dict]:
    """Add ``n_trials`` trials to the study in ``rdb``; returns the study and its record (name,
    storage with the password hidden)."""
    check_space(train.train, params.space)
    items = Items.of(train.unit, crop_store, fov_store, fov_table, train.on_error)
    v, p = params.validation, params
    study = open_study(
        p.study_name, rdb, p.direction, p.sampler.seed, p.sampler.n_startup_trials, p.pruner.n_startup_trials, p.pruner.n_warmup_steps
    )
    log.info("study %s in %s: %d trials so far", p.study_name, described(rdb), len(study.trials))
    split = validation_split(items.table, v.label, v.group, v.share, v.controls, v.seed)
    add_trials(study, items, train.train, p.space, split, p.trial, Path(p.trials_dir), p.n_trials, p.timeout)
    return study, {"study_name": p.study_name, "storage": described(rdb), "direction": p.direction}


def tabulate_trials(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, value, parameters, timings."""
    return trials_table(study)


def best_parameters(study: optuna.Study, train: TrainingParams) -> dict:
    """The best trial's augmentations as a ``train_dino`` parameter override (a YAML file that can
    go to ``conf/<env>/parameters_train_dino.yml``)."""
    if not completed_trials(study):
        raise ValueError(f"study {study.study_name!r} has no completed trial yet; run more trials")
    return {"train_dino": {"train": overrides(train.train, study.best_trial.params)}}


def plot_sweep(study: optuna.Study) -> tuple[go.Figure, go.Figure]:
    """Optimisation history and fANOVA parameter importances (from optuna.visualization)."""
    history = plot_optimization_history(study)
    if len(completed_trials(study)) < 2:
        return history, go.Figure().update_layout(title="parameter importances need two completed trials")
    return history, plot_param_importances(study)


def report_sweep(study: optuna.Study) -> dict:
    """``08_reporting/sweep.json``: trial counts by state, the best trial, this run's time."""
    summary = study_summary(study)
    return run_report(len(study.trials), summary["n_completed"], **summary)
