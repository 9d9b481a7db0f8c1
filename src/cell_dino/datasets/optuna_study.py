"""Kedro dataset for an Optuna study: saved as a small JSON record (name, storage, split), loaded
as the live :class:`optuna.Study` from its storage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna
from kedro.io import AbstractDataset

from cell_dino.atomic import atomic_path


class OptunaStudyDataset(AbstractDataset):
    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> optuna.Study:
        if not self._filepath.is_file():
            raise FileNotFoundError(f"{self._filepath}: no study record (run the sweep pipeline)")
        record = json.loads(self._filepath.read_text())
        return optuna.load_study(study_name=record["study_name"], storage=record["storage"])

    def save(self, data: dict) -> None:
        with atomic_path(self._filepath) as tmp:
            tmp.write_text(json.dumps(data, indent=2))

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
