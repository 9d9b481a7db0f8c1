"""The Kedro dataset of every output a job writes (:mod:`cell_dino.core.jobs`): FOV and crop stores,
training checkpoints, embeddings; on a local or shared filesystem, or at a URL (``s3://``: built
in a local staging folder, then uploaded, :mod:`cell_dino.data.remote`)."""

from __future__ import annotations

import glob
import shutil
from pathlib import Path
from typing import Any

import fsspec
from kedro.io import AbstractDataset
from kedro.utils import load_obj

from cell_dino.core.jobs import Job
from cell_dino.data import remote
from cell_dino.data.locations import is_url


class LazyStore:
    """Opens the store on first use, so a node may take a store it does not end up reading
    (e.g. the crop store, when a model was trained on whole fields)."""

    def __init__(self, reader: Any, path: Path) -> None:
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


class JobOutputDataset(AbstractDataset):
    """Saves by running the :class:`~cell_dino.core.jobs.Job` a node returns into ``filepath``; loads
    with ``reader`` (the dotted path of a class or function taking the path), lazily unless
    ``lazy: false``. The output exists when a path matches the glob ``marker`` under it.
    ``resumable: true`` marks outputs that resume from what they hold (training checkpoints): the
    run journal never sets them aside."""

    def __init__(
        self, filepath: str, reader: str, marker: str, lazy: bool = True, resumable: bool = False, metadata: dict[str, Any] | None = None
    ) -> None:
        self._filepath = remote.store_location(filepath)
        self._reader = load_obj(reader)
        self._marker, self._lazy, self.resumable = marker, lazy, resumable
        self.metadata = metadata

    def _save(self, data: Job) -> None:
        if not isinstance(data, Job):
            raise TypeError(f"{self._filepath}: a node must return a job (with run(path)), got {type(data).__name__}")
        if not is_url(self._filepath):
            data.run(self._filepath)
            return
        staged = remote.staging_folder(str(self._filepath)) / "output"
        data.run(staged)
        remote.upload(staged, str(self._filepath), self._marker)
        shutil.rmtree(staged.parent)

    def _load(self) -> Any:
        return LazyStore(self._reader, self._filepath) if self._lazy else self._reader(self._filepath)

    def _exists(self) -> bool:
        if is_url(self._filepath):
            fs, root = fsspec.url_to_fs(str(self._filepath))
            return bool(fs.glob(f"{glob.escape(root)}/{self._marker}"))  # the path is a name, the marker a pattern
        return self._filepath.is_dir() and next(self._filepath.glob(self._marker), None) is not None

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "reader": self._reader.__name__}
