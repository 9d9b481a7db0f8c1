"""Typed parameters of the ingest pipeline (validated by Kedro before any node runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cell_dino.imaging.preprocess import PreprocessConfig


class SourceParams(BaseModel):
    """Where the raw data set is and how to read it."""

    model_config = ConfigDict(extra="forbid")

    adapter: Literal["bbbc021", "hpa", "loaddata"]
    root: Path
    options: dict[str, Any] = Field(default_factory=dict)
    channels: list[str] | None = None
    required_metadata: list[str] = Field(default_factory=list)
    label_column: str = "Metadata_MoA"
    missing_label: Literal["raise", "drop", "keep"] = "raise"


class PreprocessParams(BaseModel):
    """Illumination correction, downscaling, clipping, error handling."""

    model_config = ConfigDict(extra="forbid")

    illumination: bool = True
    smoothing: Literal["polynomial", "gaussian"] = "polynomial"
    polynomial_degree: int = Field(2, ge=0, le=6)
    smoothing_sigma: float = Field(50.0, gt=0)
    clip_percentile: float = Field(99.0, gt=0, le=100)
    downscale: int = Field(1, ge=1)
    clip_max: float | None = Field(None, gt=0)
    on_error: Literal["raise", "skip"] = "raise"

    def to_config(self) -> PreprocessConfig:
        return PreprocessConfig(**self.model_dump())


class IngestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: SourceParams
    preprocess: PreprocessParams = Field(default_factory=PreprocessParams)
