"""Kedro dataset for the preprocessed FOV store (zarr)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset

from cell_dino.data.fov_store import FovStore, FovStream, write_fov_store


class FovStoreDataset(AbstractDataset[FovStream, FovStore]):
    """Saves a streaming :class:`FovStream` atomically; loads a lazy :class:`FovStore`."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _load(self) -> FovStore:
        return FovStore(self._filepath)

    def _save(self, data: FovStream) -> None:
        write_fov_store(self._filepath, data)

    def _exists(self) -> bool:
        return Path(self._filepath, "zarr.json").is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
