"""A training run as a job (:mod:`cell_dino.core.jobs`): data, config and mode, run into a folder by the
checkpoints' dataset (from ``kedro run``, or from ``cell-dino train`` under torchrun); and the
checkpoints a run leaves, read back.

``mode: multichannel`` trains one N-channel model (DINO4Cells) in the run folder; ``per_channel``
trains one single-channel model per channel (WS-DINO), each in ``channel-<name>/``;
``bag_of_channels`` trains one single-channel model on every channel of every item, each an image of
its own (CHAMMI-75's MorphEm), in the run folder: it embeds any data set's channels.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from cell_dino.core.reporting import run_report
from cell_dino.data.channels import ChannelSpec
from cell_dino.encoders.encoder import ENTRY, EncoderMeta
from cell_dino.train.checkpoint import CheckpointMeta, checkpoints_in, clear_checkpoints, load_checkpoint
from cell_dino.train.health import health_summary
from cell_dino.train.train_config import TrainConfig
from cell_dino.train.trainer import train
from cell_dino.train.training_data import BAG_CHANNEL, TrainingData

Mode = Literal["multichannel", "per_channel", "bag_of_channels"]
CHANNEL_FOLDER = "channel-{name}"


@dataclass
class TrainingJob:
    data: TrainingData
    config: TrainConfig
    mode: Mode = "multichannel"

    def trained_data(self) -> list[TrainingData]:
        """The data each model of the run trains on: the items (multichannel), each channel of them
        (per_channel), or every channel of every item as an image (bag_of_channels, standardised by
        each channel's statistics for ``augment.normalise: dataset``)."""
        if self.mode == "per_channel":
            return [self.data.channel(name) for name in self.data.channels.names]
        if self.mode == "bag_of_channels":
            return [self.data.channel_bag(standardise=self.config.augment.normalise == "dataset")]
        return [self.data]

    def check(self) -> None:
        """Fail before training on settings that do not fit the channels each model sees (a bag of
        channels sees one at a time: no channel can be named for an augmentation), naming the parameter."""
        if self.mode == "bag_of_channels" and (self.config.augment.rescale_channel or self.config.augment.droppable_channels):
            raise ValueError(
                "augment.rescale_channel and augment.droppable_channels name channels: a bag-of-channels run sees one "
                "channel at a time (set them to null, or train with mode: multichannel)"
            )
        names = self.data.channels.names
        seen = {"per_channel": [(n,) for n in names], "bag_of_channels": [(BAG_CHANNEL,)]}.get(self.mode, [names])
        for channels in seen:  # what each model sees, without building its data
            self.config.check(ChannelSpec(tuple(channels)))

    def _other_single_model(self, path: Path) -> bool:
        """Does ``path`` hold the checkpoints of a single-model run of another mode (multichannel vs
        bag of channels; any, for a per-channel run)?"""
        saved = checkpoints_in(path)
        if not saved or self.mode == "per_channel":
            return bool(saved)
        return bool(load_checkpoint(saved[-1])["meta"].get("bag_of_channels")) != (self.mode == "bag_of_channels")

    def run(self, path: Path) -> None:
        """Train (or resume) into ``path``: the job protocol. ``resume: never`` clears the folder of
        either layout; a folder holding the other layout is refused, naming it."""
        path = Path(path)
        self.check()
        per_channel = sorted(path.glob(CHANNEL_FOLDER.format(name="*")))
        if self.config.runtime.resume == "never":
            for folder in per_channel:
                shutil.rmtree(folder)
        elif (self.mode != "per_channel" and per_channel) or self._other_single_model(path):
            raise ValueError(f"{path} holds a run of the other mode than mode: {self.mode}; use runtime.resume: never to replace it")
        if self.mode != "per_channel":
            train(self.trained_data()[0], self.config, path)
            return
        clear_checkpoints(path, "mode: per_channel keeps its models in channel folders")
        for data in self.trained_data():
            train(data, self.config, path / CHANNEL_FOLDER.format(name=data.channels.names[0]))


class CheckpointSeries:
    """The checkpoints of a run, oldest first; loading is on demand. A per-channel run holds one
    series per channel (``channels``); its ``paths`` and history are those of the first channel."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        folders = sorted(self.directory.glob(CHANNEL_FOLDER.format(name="*")))
        if folders and checkpoints_in(self.directory):
            raise ValueError(f"{self.directory} holds both a multichannel run and per-channel runs: retrain with runtime.resume: never")
        self.channels = [CheckpointSeries(f) for f in folders]
        self.paths = self.channels[0].paths if self.channels else checkpoints_in(self.directory)
        if not self.paths or any(len(c.paths) != len(self.paths) for c in self.channels):
            raise FileNotFoundError(f"{self.directory}: no complete set of checkpoints (run the training pipeline)")

    @property
    def per_channel(self) -> bool:
        return bool(self.channels)

    def latest(self, map_location: str = "cpu") -> dict:
        return load_checkpoint(self.paths[-1], map_location)

    def meta(self, index: int = -1) -> CheckpointMeta:
        """What the (first) model of the run is, at checkpoint ``index``."""
        return CheckpointMeta.from_dict(load_checkpoint(self.paths[index])["meta"])

    def encoder(self, index: int = -1) -> EncoderMeta:
        """What the (first) model of the run is to embed, method-neutral, at checkpoint ``index``."""
        return EncoderMeta.from_dict(load_checkpoint(self.paths[index])[ENTRY]["meta"])

    def files(self, index: int = -1) -> list[Path]:
        """The checkpoint file at ``index`` of every model of the run (one, or one per channel)."""
        return [s.paths[index] for s in (self.channels or [self])]

    def states(self, index: int = -1, map_location: str = "cpu") -> list[dict]:
        """The checkpoint at ``index`` of every model of the run (one, or one per channel)."""
        return [load_checkpoint(path, map_location) for path in self.files(index)]


def history_table(series: CheckpointSeries) -> pd.DataFrame:
    """The last checkpoint's per-epoch history (one block of rows per channel model, in ``channel``)."""
    if not series.per_channel:
        return pd.DataFrame(series.latest()["history"])
    frames = [pd.DataFrame(s["history"]).assign(channel=s["meta"]["channels"][0]) for s in series.states(-1)]
    return pd.concat(frames, ignore_index=True)


def run_summary(series: CheckpointSeries) -> dict:
    """A run's size, speed, memory, last epoch and health (``08_reporting/train_*.json``; ``health``:
    :func:`cell_dino.train.health.health_summary`, ``{channel: summary}`` for a per-channel run;
    ``collapsed`` None for a run trained before the monitors)."""
    state = series.latest()
    history, meta = state["history"], CheckpointMeta.from_dict(state["meta"])
    health = (
        {s["meta"]["channels"][0]: health_summary(s["history"]) for s in series.states(-1)}
        if series.per_channel
        else {"": health_summary(history)}
    )
    judged = [h["collapsed"] for h in health.values() if h["collapsed"] is not None]
    weak = (
        {}
        if meta.weak_label is None
        else {"weak_label": meta.weak_label, "n_weak_labels": meta.n_weak_labels, "n_singleton_items": meta.n_singleton_items}
    )
    return run_report(
        meta.n_items,
        len(series.paths),
        sum(h["seconds"] for h in history),
        unit="channel_image" if meta.bag_of_channels else meta.unit,  # a bag of channels: n_inputs, speed in channel images
        n_items_skipped=meta.n_items_skipped,
        epochs=len(history),
        images_per_second=history[-1]["images_per_second"],
        peak_rss_mb=max(h["peak_rss_mb"] for h in history),
        peak_gpu_mb=max(h["peak_gpu_mb"] for h in history),
        final=history[-1],
        channels=list(meta.source_channels or meta.channels.names),
        architecture=meta.architecture,
        patch_size=meta.patch_size,
        mode="per_channel" if series.per_channel else "bag_of_channels" if meta.bag_of_channels else "multichannel",
        n_models=max(1, len(series.channels)),
        health=health if series.per_channel else health[""],
        collapsed=any(judged) if judged else None,  # None: trained before the health monitors
        **weak,
    )
