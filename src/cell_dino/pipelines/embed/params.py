"""Typed parameters of the embed pipeline."""

from __future__ import annotations


from pydantic import BaseModel, ConfigDict, Field

from cell_dino.config import Count, NonNegativeInt
from cell_dino.features.model import FeatureConfig
from cell_dino.runtime import Precision


class EmbedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    features: FeatureConfig = Field(default_factory=FeatureConfig)
    test_time_crops_for_fields: bool = True  # WS-DINO: median over 4 centre crops of each field
    batch_size: Count = 64
    shard_size: Count = 8192
    device: str = "auto"
    precision: Precision = "auto"  # auto: bf16 where the device computes it natively, else fp32
    attention_samples: Count = 64
    epoch_profiles: bool = True  # well profiles of every checkpoint, for epoch selection
    seed: NonNegativeInt = 0
