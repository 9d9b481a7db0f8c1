"""Non-finite feature values (NaN, inf) in profile tables: found, named by row and column, then
dropped with a count or refused.

A row whose features are mostly non-finite (an item the model could not embed, a well whose
measurements failed) carries nothing and is dropped; a feature that is non-finite anywhere else is
dropped for every row, as pycytominer's ``feature_select`` drops features with missing values, so
that one bad value in one well cannot take the others' statistics with it.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd

from cell_dino.data.errors import DataError
from cell_dino.data.manifest import metadata_columns

log = logging.getLogger(__name__)
NonFinitePolicy = Literal["drop", "raise"]
ROW_KEYS = ("Metadata_Plate", "Metadata_Well", "Metadata_FOV", "Metadata_Cell", "Metadata_Index", "Metadata_Treatment")
MAX_ROW_SHARE = 0.5  # rows with more of their features non-finite than this are dropped whole
SHOWN = 5  # rows and columns named in messages and reports


def row_label(table: pd.DataFrame, row: int) -> str:
    """``Metadata_Plate=P, Metadata_Well=W, ...`` of one row (positional), from the key columns present."""
    keys = [c for c in ROW_KEYS if c in table.columns]
    if not keys:
        return f"row {row}"
    return ", ".join(f"{c}={table[c].iloc[row]}" for c in keys)


def nonfinite_cells(table: pd.DataFrame, features: list[str]) -> list[str]:
    """The first few non-finite values, each as ``<row label>, column <name> = <value>``."""
    values = table[features].to_numpy(dtype=np.float64)
    rows, cols = np.nonzero(~np.isfinite(values))
    return [f"{row_label(table, r)}, column {features[c]} = {values[r, c]}" for r, c in zip(rows[:SHOWN], cols[:SHOWN])]


def finite_profiles(table: pd.DataFrame, policy: NonFinitePolicy, what: str) -> tuple[pd.DataFrame, dict]:
    """``table`` without non-finite feature values, and what was dropped.

    ``policy`` ``raise`` stops with a :class:`~cell_dino.data.errors.DataError` naming ``what``
    and the first rows and columns at fault. ``drop`` removes rows with more than half of their
    features non-finite, then every feature still non-finite somewhere; the returned record has
    ``n_rows_dropped``, ``rows`` (labels of the first few), ``n_features_dropped`` and
    ``features`` (names of the first few); it is empty when nothing was non-finite.
    """
    meta = set(metadata_columns(table))
    features = [c for c in table.columns if c not in meta]
    finite = np.isfinite(table[features].to_numpy(dtype=np.float64))
    if finite.all():
        return table, {}
    where = nonfinite_cells(table, features)
    if policy == "raise":
        raise DataError(f"{what}: {int((~finite).sum())} non-finite feature value(s) in {int((~finite.all(axis=1)).sum())} row(s); first: {where}")
    empty_rows = (~finite).mean(axis=1) > MAX_ROW_SHARE
    bad_features = ~finite[~empty_rows].all(axis=0) if (~empty_rows).any() else np.zeros(len(features), dtype=bool)
    dropped_rows = [row_label(table, r) for r in np.flatnonzero(empty_rows)[:SHOWN]]
    dropped_features = [f for f, bad in zip(features, bad_features) if bad]
    kept = table.loc[~empty_rows].drop(columns=dropped_features).reset_index(drop=True)
    record = {"n_rows_dropped": int(empty_rows.sum()), "rows": dropped_rows,
              "n_features_dropped": len(dropped_features), "features": dropped_features[:SHOWN], "first_values": where}  # fmt: skip
    log.warning("%s: dropped %d row(s) and %d feature(s) with non-finite values; first: %s", what, record["n_rows_dropped"],
                record["n_features_dropped"], where)  # fmt: skip
    return kept, record
