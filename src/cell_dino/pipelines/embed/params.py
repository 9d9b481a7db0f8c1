"""Typed parameters of the embed pipeline."""

from __future__ import annotations

from pydantic import model_validator

from cell_dino.core.config import Count, Device, NonNegativeInt
from cell_dino.core.runtime import Precision
from cell_dino.data.items import OnError
from cell_dino.embed.cellprofiler import CellProfilerConfig
from cell_dino.embed.model import FeatureConfig
from cell_dino.embed.transfer import TransferConfig
from cell_dino.pipelines.params import Params


class EmbedParams(Params):
    features: FeatureConfig
    test_time_crops_for_fields: bool  # WS-DINO: median over the 4 centre crops of each field
    batch_size: Count
    shard_size: Count  # items per resumable shard (a multiple of batch_size)
    device: Device
    precision: Precision
    attention_samples: Count  # items whose attention maps and patch tokens are kept
    epoch_profiles: bool  # FOV profiles of every checkpoint, for epoch selection
    seed: NonNegativeInt
    cellprofiler: CellProfilerConfig  # the CellProfiler-features model: groups measured, feature selection
    imagenet: TransferConfig  # ImageNet DINO per channel (the WS-DINO paper's transfer baseline): weights file, unit
    on_error: OnError  # items whose store file is missing: raise (naming them) | skip (left out, counted in the report)
    channel_map: dict[str, str]  # {model channel: data channel} for stains named otherwise; channels always match by name

    @model_validator(mode="after")
    def _whole_batches(self) -> EmbedParams:
        if self.shard_size % self.batch_size:
            raise ValueError(f"embed.shard_size {self.shard_size} must be a multiple of embed.batch_size {self.batch_size}")
        return self
