"""Tables, records and figures are written whole or not at all, and records are strict JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io.core import DatasetError

from cell_dino.datasets.files import JSONDataset, ParquetDataset


def test_a_failed_save_leaves_the_previous_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "table.parquet"
    dataset = ParquetDataset(str(path))
    dataset.save(pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(DatasetError, match="table.parquet"):
        dataset.save(pd.DataFrame({"a": [object()]}))  # pyarrow cannot write this column
    pd.testing.assert_frame_equal(dataset.load(), pd.DataFrame({"a": [1, 2]}))
    assert [p.name for p in tmp_path.iterdir()] == ["table.parquet"]


def test_undefined_metrics_are_written_as_null(tmp_path: Path) -> None:
    dataset = JSONDataset(str(tmp_path / "report.json"))
    dataset.save({"nsc": 0.5, "nscb": float("nan"), "map": np.float32(0.25), "sizes": (1, np.int64(2)), "inf": float("inf")})
    text = (tmp_path / "report.json").read_text()
    assert json.loads(text) == {"nsc": 0.5, "nscb": None, "map": 0.25, "sizes": [1, 2], "inf": None} and "NaN" not in text
