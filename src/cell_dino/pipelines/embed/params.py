"""Typed parameters of the embed pipeline."""

from __future__ import annotations

from pathlib import Path

from pydantic import model_validator

from cell_dino.core.config import Count, Device, NonNegativeInt
from cell_dino.core.runtime import Precision
from cell_dino.data.items import OnError
from cell_dino.embed.cellprofiler import CellProfilerConfig
from cell_dino.embed.model import FeatureConfig
from cell_dino.embed.published import PublishedConfig, parameter
from cell_dino.embed.transfer import TransferConfig
from cell_dino.pipelines.params import Params
from cell_dino.registry import PUBLISHED_MODELS


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
    published: dict[str, PublishedConfig]  # published cell models by name (registry.PUBLISHED_MODELS); one not given: skipped
    on_error: OnError  # items whose store file is missing: raise (naming them) | skip (left out, counted in the report)
    channel_map: dict[str, str]  # {model channel: data channel} for stains named otherwise; channels always match by name

    @model_validator(mode="after")
    def _whole_batches(self) -> EmbedParams:
        if self.shard_size % self.batch_size:
            raise ValueError(f"embed.shard_size {self.shard_size} must be a multiple of embed.batch_size {self.batch_size}")
        return self

    @model_validator(mode="after")
    def _published_files(self) -> EmbedParams:  # checked before any node runs, not after hours of other models
        unknown = sorted(set(self.published) - set(PUBLISHED_MODELS))
        if unknown:
            raise ValueError(f"embed.published: no published model {unknown[0]!r}; known: {list(PUBLISHED_MODELS)}")
        for name, config in self.published.items():
            if config.weights is not None and not Path(config.weights).expanduser().is_file():
                raise ValueError(f"{parameter(name)}: weights file {config.weights} not found (leave it unset to skip {name})")
            if config.channels is not None and (not config.channels or len(set(config.channels)) != len(config.channels)):
                raise ValueError(f"{parameter(name, 'channels')}: the model's channels must be named, each once; got {list(config.channels)}")
        return self

    def published_model(self, name: str) -> PublishedConfig:
        """The settings of published model ``name`` (the defaults, skipped, when not given)."""
        return self.published.get(name, PublishedConfig())
