"""Nodes of the training pipelines (train_dino, train_wsdino)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pandas as pd

from cell_dino.data.items import Items
from cell_dino.pipelines.train_dino.params import TrainingParams
from cell_dino.train.training_data import training_data
from cell_dino.train.training_job import CheckpointSeries, Mode, TrainingJob, history_table, run_summary

log = logging.getLogger(__name__)


def plan_training(crop_store: Any, fov_store: Any, fov_table: pd.DataFrame, params: TrainingParams) -> TrainingJob:
    """A DINO run (no weak labels) or a WS-DINO run on cells or fields, of one N-channel model, one
    model per channel or one model for a bag of channels (``mode``); the ``<run>_checkpoints``
    dataset runs it (resuming from the checkpoints it holds)."""
    items = Items.of(params.unit, crop_store, fov_store, fov_table, params.on_error)
    weak = params.weak_labels
    data = (
        training_data(items)
        if weak is None
        else training_data(items, weak.label, weak.evaluation_label, weak.allow_label_leak, weak.balanced)
    )
    job = TrainingJob(data, params.train, params.mode)
    job.check()
    return job


def with_weak_labels(training: TrainingParams, weak: TrainingParams) -> TrainingParams:
    """``training`` with the weak labels of ``weak`` (WS-DINO on DINO's items and settings); raises
    ValueError when ``weak`` has none."""
    if weak.weak_labels is None:
        raise ValueError("weak_labels_from names a parameter block without weak_labels: set its weak_labels (label, ...)")
    return training.model_copy(update={"weak_labels": weak.weak_labels})


def with_mode(training: TrainingParams, mode: Mode) -> TrainingParams:
    """``training`` in ``mode`` (DINO's run as a bag of channels), every other setting shared; a bag
    of channels sees one channel at a time, so augmentations that name a channel (HPA's droppable
    channels, LINCS's rescaled RNA channel) are left out, logged."""
    augment = training.train.augment
    if mode == "bag_of_channels" and (augment.rescale_channel or augment.droppable_channels):
        log.info("bag of channels: augment.rescale_channel and augment.droppable_channels left out (one channel at a time)")
        augment = dataclasses.replace(augment, rescale_channel=None, droppable_channels=None)
    return training.model_copy(update={"mode": mode, "train": dataclasses.replace(training.train, augment=augment)})


def tabulate_training(checkpoints: CheckpointSeries) -> pd.DataFrame:
    """Per-epoch loss, teacher entropy, student-teacher KL, learning rate, throughput, memory
    (per-channel runs: one block of rows per channel, named in ``channel``)."""
    return history_table(checkpoints)


def report_training(checkpoints: CheckpointSeries) -> dict:
    """``08_reporting/train_*.json``: run size, speed, memory and the last epoch's figures."""
    return run_summary(checkpoints)
