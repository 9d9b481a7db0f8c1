"""Typed parameters of the embed pipeline."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cell_dino.features.model import FeatureConfig


class EmbedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    features: FeatureConfig = Field(default_factory=FeatureConfig)
    test_time_crops_for_fields: bool = True  # WS-DINO: median over 4 centre crops of each field
    batch_size: int = 64
    shard_size: int = 8192
    device: str = "auto"
    precision: Literal["bf16", "fp32"] = "bf16"
    attention_samples: int = 64
    epoch_profiles: bool = True  # well profiles of every checkpoint, for epoch selection
    seed: int = 0
