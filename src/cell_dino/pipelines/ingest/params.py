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
    channels: list[str] | None = None  # the channels to ingest, in this order (others are left out); None: all
    required_metadata: list[str] = Field(default_factory=list)
    label_column: str = "Metadata_MoA"
    missing_label: Literal["raise", "drop", "keep"] = "raise"


class IngestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: SourceParams
    preprocess: PreprocessConfig = Field(default_factory=PreprocessConfig)
