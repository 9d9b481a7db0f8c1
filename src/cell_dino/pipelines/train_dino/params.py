"""Typed parameters of the training pipelines."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cell_dino.ssl.run import Mode
from cell_dino.ssl.trainer import TrainConfig


class TrainDinoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: Literal["cell", "fov"] = "cell"
    mode: Mode = "multichannel"  # per_channel: one single-channel model per channel (WS-DINO)
    train: TrainConfig = Field(default_factory=TrainConfig)


class TrainWsdinoParams(TrainDinoParams):
    unit: Literal["cell", "fov"] = "fov"
    weak_label: str = "Metadata_Compound"
    evaluation_label: str = "Metadata_MoA"
    allow_label_leak: bool = False
    balanced: bool = True  # inverse-frequency sampling of weak labels
