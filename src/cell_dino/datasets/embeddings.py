"""Kedro datasets for embeddings (a sharded parquet folder) and attention samples."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from kedro.io import AbstractDataset

from cell_dino.features.artifacts import ITEMS, REPORT, AttentionSample, read_embeddings

if TYPE_CHECKING:
    from cell_dino.features.job import EmbeddingJob


class _FolderDataset(AbstractDataset):
    marker = ""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _exists(self) -> bool:
        return (self._filepath / self.marker).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


class EmbeddingsDataset(_FolderDataset):
    """Saves by running an :class:`EmbeddingJob` (resumable by shard, published atomically);
    loads the table, with the run record in ``attrs["embedding"]``."""

    marker = REPORT

    def _save(self, data: EmbeddingJob) -> None:
        data(self._filepath)

    def _load(self) -> pd.DataFrame:
        return read_embeddings(self._filepath)


class AttentionSampleDataset(_FolderDataset):
    marker = ITEMS

    def _save(self, data: AttentionSample) -> None:
        data.save(self._filepath)

    def _load(self) -> AttentionSample:
        return AttentionSample.load(self._filepath)
