"""Kedro dataset for an attention sample (a folder: arrays and the items' metadata)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset

from cell_dino.embed.artifacts import ITEMS, AttentionSample


class AttentionSampleDataset(AbstractDataset):
    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _save(self, data: AttentionSample) -> None:
        data.save(self._filepath)

    def _load(self) -> AttentionSample:
        return AttentionSample.load(self._filepath)

    def _exists(self) -> bool:
        return (self._filepath / ITEMS).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
