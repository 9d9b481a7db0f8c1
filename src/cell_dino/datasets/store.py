"""Base for Kedro datasets over folder stores that are saved from a stream and loaded lazily."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from kedro.io import AbstractDataset


class LazyStore:
    """Opens the store on first use, so a node may take a store it does not end up reading
    (e.g. training on cells or on fields, chosen by a parameter)."""

    def __init__(self, reader: Callable[[Path], Any], path: Path) -> None:
        self._reader, self._path, self._store = reader, path, None

    def _open(self) -> Any:
        if self._store is None:
            self._store = self._reader(self._path)
        return self._store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._open(), name)

    def __len__(self) -> int:
        return len(self._open())

    def __getitem__(self, index: Any) -> Any:
        return self._open()[index]


class StoreDataset(AbstractDataset):
    """Subclasses name the writer (consumes what a node returns), the reader and a marker file
    whose presence means the store is complete."""

    writer: ClassVar[Callable[[Path, Any], Path]]
    reader: ClassVar[Callable[[Path], Any]]
    marker: ClassVar[str]

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _load(self) -> LazyStore:
        return LazyStore(type(self).reader, self._filepath)

    def _save(self, data: Any) -> None:
        type(self).writer(self._filepath, data)

    def _exists(self) -> bool:
        return (self._filepath / self.marker).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
