"""Typed parameters of the training pipelines (train_dino, train_wsdino)."""

from __future__ import annotations

from cell_dino.data.items import OnError, Unit
from cell_dino.pipelines.params import Params
from cell_dino.train.train_config import TrainConfig
from cell_dino.train.training_job import Mode


class WeakLabelParams(Params):
    """WS-DINO: the local crops come from another image with the same weak label."""

    label: str  # e.g. the compound
    evaluation_label: str  # a weak label in one-to-one correspondence with it is refused
    allow_label_leak: bool
    balanced: bool  # inverse-frequency sampling of weak labels


class TrainingParams(Params):
    unit: Unit  # cell: the crop store | fov: whole fields from the FOV store
    on_error: OnError  # items whose store file is missing: raise (naming them) | skip (left out, logged)
    mode: Mode  # multichannel (DINO4Cells) | per_channel: one model per channel (WS-DINO) | bag_of_channels: one for all (MorphEm)
    weak_labels: WeakLabelParams | None  # None: DINO
    train: TrainConfig
