"""Kedro dataset for the single-cell crop store (zarr + parquet)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset

from cell_dino.data.crop_store import TABLE, CropStore, write_crop_store
from cell_dino.imaging.segment_fovs import SegmentationJob


class CropStoreDataset(AbstractDataset[SegmentationJob, CropStore]):
    """Saves by running a :class:`SegmentationJob` (resumable, atomic); loads a :class:`CropStore`."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _load(self) -> CropStore:
        return CropStore(self._filepath)

    def _save(self, data: SegmentationJob) -> None:
        write_crop_store(self._filepath, data)

    def _exists(self) -> bool:
        return (self._filepath / TABLE).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
