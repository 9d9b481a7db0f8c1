"""Nodes of the training pipelines (train_dino, train_wsdino)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cell_dino.data.items import Items
from cell_dino.pipelines.train_dino.params import TrainingParams
from cell_dino.train.training_data import training_data
from cell_dino.train.training_job import CheckpointSeries, TrainingJob, history_table, run_summary


def plan_training(crop_store: Any, fov_store: Any, fov_table: pd.DataFrame, params: TrainingParams) -> TrainingJob:
    """A DINO run (no weak labels) or a WS-DINO run on cells or fields; the ``<run>_checkpoints``
    dataset runs it (resuming from the checkpoints it holds)."""
    items = Items.of(params.unit, crop_store, fov_store, fov_table, params.on_error)
    weak = params.weak_labels
    data = (
        training_data(items)
        if weak is None
        else training_data(items, weak.label, weak.evaluation_label, weak.allow_label_leak, weak.balanced)
    )
    params.train.check(data.channels)
    return TrainingJob(data, params.train, params.mode)


def with_weak_labels(training: TrainingParams, weak: TrainingParams) -> TrainingParams:
    """``training`` with the weak labels of ``weak`` (WS-DINO on DINO's items and settings); raises
    ValueError when ``weak`` has none."""
    if weak.weak_labels is None:
        raise ValueError("weak_labels_from names a parameter block without weak_labels: set its weak_labels (label, ...)")
    return training.model_copy(update={"weak_labels": weak.weak_labels})


def tabulate_training(checkpoints: CheckpointSeries) -> pd.DataFrame:
    """Per-epoch loss, teacher entropy, student-teacher KL, learning rate, throughput, memory
    (per-channel runs: one block of rows per channel, named in ``channel``)."""
    return history_table(checkpoints)


def report_training(checkpoints: CheckpointSeries) -> dict:
    """``08_reporting/train_*.json``: run size, speed, memory and the last epoch's figures."""
    return run_summary(checkpoints)
