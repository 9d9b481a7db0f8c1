"""The explorer's table downloads give back the table shown."""

from __future__ import annotations

import io
import sys

import pandas as pd

from tests.projects import REPO

sys.path.insert(0, str(REPO / "app"))
from explorer.table_downloads import csv_bytes, parquet_bytes  # noqa: E402


def test_csv_and_parquet_downloads_read_back_as_the_table() -> None:
    frame = pd.DataFrame({"nsc": [0.88, float("nan")], 3: ["a", "b"]}, index=pd.Index(["tvn", "none"], name="normalisation"))
    back = pd.read_parquet(io.BytesIO(parquet_bytes(frame, index=True)))
    assert back.index.tolist() == ["tvn", "none"] and back.columns.tolist() == ["nsc", "3"]
    assert back["nsc"].iloc[0] == 0.88 and pd.isna(back["nsc"].iloc[1])
    csv = pd.read_csv(io.BytesIO(csv_bytes(frame, index=False)))
    assert csv.columns.tolist() == ["nsc", "3"] and csv["3"].tolist() == ["a", "b"]
