"""Nodes of the training pipelines (train_dino, train_wsdino)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cell_dino.pipelines.train_dino.params import TrainDinoParams, TrainWsdinoParams
from cell_dino.ssl.run import CheckpointSeries, TrainingRun
from cell_dino.ssl.training_data import training_data


def plan_dino(crop_store: Any, fov_store: Any, fov_table: pd.DataFrame, params: TrainDinoParams) -> TrainingRun:
    """A DINO run on cells or fields; the checkpoints dataset runs it (resuming if it can)."""
    data = training_data(params.unit, crop_store, fov_store, fov_table)
    params.train.check(data.channels)
    return TrainingRun(data, params.train, params.mode)


def plan_wsdino(crop_store: Any, fov_store: Any, fov_table: pd.DataFrame, params: TrainWsdinoParams) -> TrainingRun:
    """A WS-DINO run: local crops from another image with the same weak label."""
    data = training_data(
        params.unit, crop_store, fov_store, fov_table, params.weak_label, params.evaluation_label,
        params.allow_label_leak, params.balanced,
    )  # fmt: skip
    params.train.check(data.channels)
    return TrainingRun(data, params.train, params.mode)


def tabulate_training(checkpoints: CheckpointSeries) -> pd.DataFrame:
    """Per-epoch loss, teacher entropy, student-teacher KL, learning rate, throughput, memory
    (per-channel runs: one block of rows per channel, named in ``channel``)."""
    if not checkpoints.per_channel:
        return pd.DataFrame(checkpoints.latest()["history"])
    frames = [pd.DataFrame(s["history"]).assign(channel=s["meta"]["channels"][0]) for s in checkpoints.states(-1)]
    return pd.concat(frames, ignore_index=True)


def report_training(checkpoints: CheckpointSeries) -> dict:
    """``08_reporting/train_*.json``: run size, speed, memory and the last epoch's figures."""
    state = checkpoints.latest()
    history, meta = state["history"], state["meta"]
    return {
        "n_inputs": meta["n_items"], "n_outputs": len(checkpoints.paths), "unit": meta["unit"],
        "epochs": len(history), "seconds": sum(h["seconds"] for h in history),
        "images_per_second": history[-1]["images_per_second"], "peak_rss_mb": max(h["peak_rss_mb"] for h in history),
        "peak_gpu_mb": max(h["peak_gpu_mb"] for h in history), "final": history[-1],
        "channels": meta.get("source_channels", meta["channels"]), "architecture": meta["architecture"], "patch_size": meta["patch_size"],
        "mode": "per_channel" if checkpoints.per_channel else "multichannel", "n_models": max(1, len(checkpoints.channels)),
        **{k: meta[k] for k in ("weak_label", "n_weak_labels", "n_singleton_items") if k in meta},
    }  # fmt: skip
