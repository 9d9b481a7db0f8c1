"""Kedro datasets for tables, records and figures, each written to a temporary path and renamed
into place, so that a failed or killed save never leaves a half-written file.

- ``ParquetDataset``: a pandas table.
- ``JSONDataset``: a record; NaN and infinities (undefined metrics) are written as ``null``, so the
  file is strict JSON.
- ``PlotlyDataset``: a plotly figure as plotly JSON.
- ``YAMLDataset``: a parameter file.
- ``H5adDataset``: an AnnData object as ``.h5ad`` (scverse).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io
import yaml
from kedro.io import AbstractDataset

from cell_dino.core.atomic import atomic_path


def plain(value: Any) -> Any:
    """A JSON-ready copy: numpy scalars and arrays as Python values and lists, tuples as lists,
    dataclasses as dicts, non-finite floats as None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _FileDataset(AbstractDataset):
    suffix: ClassVar[str] = ""

    def __init__(
        self,
        filepath: str,
        save_args: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        self._save_args = save_args or {}
        self._load_args = load_args or {}
        self.metadata = metadata

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}

    def _write(self, data: Any, path: Path) -> None:
        raise NotImplementedError

    def _save(self, data: Any) -> None:
        with atomic_path(self._filepath) as tmp:
            self._write(data, tmp)


class H5adDataset(_FileDataset):
    def _write(self, data: Any, path: Path) -> None:
        data.write_h5ad(path, **self._save_args)

    def _load(self) -> Any:
        import anndata

        return anndata.read_h5ad(self._filepath, **self._load_args)


class ParquetDataset(_FileDataset):
    def _write(self, data: pd.DataFrame, path: Path) -> None:
        data.to_parquet(path, **self._save_args)

    def _load(self) -> pd.DataFrame:
        return pd.read_parquet(self._filepath, **self._load_args)


class JSONDataset(_FileDataset):
    def _write(self, data: Any, path: Path) -> None:
        path.write_text(json.dumps(plain(data), allow_nan=False, indent=self._save_args.get("indent", 2)))

    def _load(self) -> Any:
        return json.loads(self._filepath.read_text())


class PlotlyDataset(_FileDataset):
    def _write(self, data: go.Figure, path: Path) -> None:
        path.write_text(plotly.io.to_json(data))

    def _load(self) -> go.Figure:
        return plotly.io.from_json(self._filepath.read_text())


class YAMLDataset(_FileDataset):
    def _write(self, data: Any, path: Path) -> None:
        path.write_text(yaml.safe_dump(plain(data), sort_keys=False))

    def _load(self) -> Any:
        return yaml.safe_load(self._filepath.read_text())
