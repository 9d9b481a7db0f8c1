"""Base for Kedro datasets over folder stores that are saved from a stream and loaded lazily."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from kedro.io import AbstractDataset


class StoreDataset(AbstractDataset):
    """Subclasses name the writer (consumes what a node returns), the reader and a marker file
    whose presence means the store is complete."""

    writer: ClassVar[Callable[[Path, Any], Path]]
    reader: ClassVar[Callable[[Path], Any]]
    marker: ClassVar[str]

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _load(self) -> Any:
        return type(self).reader(self._filepath)

    def _save(self, data: Any) -> None:
        type(self).writer(self._filepath, data)

    def _exists(self) -> bool:
        return (self._filepath / self.marker).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
