"""Typed parameters of the segment pipeline."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from cell_dino.imaging.segment_fovs import SegmentConfig


class SegmentParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: SegmentConfig = Field(default_factory=SegmentConfig)
    workers: int = Field(1, ge=1)
    shard_size: int = Field(32, ge=1)
    ground_truth: Path | None = None  # the phantom's ground_truth/ folder, for accuracy figures
