"""The configuration of a training run: architecture, loss, optimisation, augmentations, runtime.
The library defaults are DINO's (Caron et al. 2021); the pipelines' parameter files state where a
recipe deviates (DINO4Cells, WS-DINO, the CPU demo)."""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import Literal

from cell_dino.core.config import Count, Device, NonNegativeInt, settings
from cell_dino.core.runtime import Attention, Precision
from cell_dino.data.channels import ChannelSpec
from cell_dino.encoders.backbone import BackboneConfig
from cell_dino.train.augment import AugmentConfig
from cell_dino.train.head import HeadConfig
from cell_dino.train.health import HealthConfig
from cell_dino.train.loss import LossConfig
from cell_dino.train.optimiser import OptimConfig


@settings
class RuntimeConfig:
    device: Device = "auto"
    precision: Precision = "auto"  # auto: bf16 where the device computes it natively, else fp32
    compile: bool = False
    num_workers: NonNegativeInt = 0
    in_memory_mb: NonNegativeInt = 2048  # images read into memory once when they take at most this (0: always streamed)
    seed: NonNegativeInt = 0
    checkpoint_every: Count = 1
    resume: Literal["auto", "never"] = "auto"  # never: an earlier run's checkpoints in the folder are removed first
    attention: Attention = "auto"  # auto: math kernel on CPU, fused elsewhere


@settings
class TrainConfig:
    """Everything a training run needs besides its data."""

    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    init: str | None = None  # None: from scratch; a local file or timm:<name> of RGB DINO weights (WS-DINO: ImageNet ViT-S/8)

    def __post_init__(self) -> None:
        patch = self.backbone.patch_size
        for name, spec in (("global_crops", self.augment.global_crops), ("local_crops", self.augment.local_crops)):
            if spec.size % patch:
                raise ValueError(f"augment.{name}.size {spec.size} is not a multiple of backbone.patch_size {patch}")

    def check(self, channels: ChannelSpec) -> None:
        """Fail before training on settings that do not fit the data's channels, or on an ``init``
        weights file that is not there, naming the parameter."""
        if self.init is not None and not self.init.startswith("timm:") and not Path(self.init).is_file():
            raise FileNotFoundError(
                f"train.init: pretrained weights file {self.init} not found (download DINO's weights, e.g. "
                "dino_deitsmall8_pretrain.pth for ViT-S/8, and give its path; init: null trains from random weights)"
            )
        if self.augment.rescale_channel is not None and self.augment.rescale_channel not in channels.names:
            raise ValueError(f"augment.rescale_channel {self.augment.rescale_channel!r} not in {list(channels.names)}")
        unknown = set(self.augment.droppable_channels or ()) - set(channels.names)
        if unknown:
            raise ValueError(f"augment.droppable_channels {sorted(unknown)} not in {list(channels.names)}")
