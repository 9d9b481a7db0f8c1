"""Typed parameters of the ingest pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cell_dino.data.adapters import AdapterName
from cell_dino.data.manifest import MissingLabelPolicy
from cell_dino.ingest.preprocessing_job import PreprocessConfig
from cell_dino.pipelines.params import Params


class SourceParams(Params):
    """Where the raw data set is and how to read it."""

    adapter: AdapterName
    root: Path
    options: dict[str, Any]  # the adapter's keyword arguments
    channels: list[str] | None  # the channels to ingest, in this order (others are left out); None: all
    required_metadata: list[str]
    label_column: str
    missing_label: MissingLabelPolicy


class IngestParams(Params):
    source: SourceParams
    preprocess: PreprocessConfig
