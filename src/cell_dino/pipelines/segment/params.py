"""Typed parameters of the segment pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from cell_dino.pipelines.params import Params
from cell_dino.segment.segment_fovs import SegmentConfig


class SegmentParams(Params):
    config: SegmentConfig
    shard_size: Annotated[int, Field(ge=1)]  # fields per shard: the unit of streaming and of resuming
    ground_truth: Path | None  # a folder of true masks (the phantom's): accuracy figures where it exists
