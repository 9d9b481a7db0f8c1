"""Non-finite feature values (NaN, inf) in profile tables: found, named by row and column, then
dropped with a count or refused.

As pycytominer's ``feature_select`` (``drop_na_columns``, cutoff 0.05) and its profiles do: a
feature non-finite in more than 5 % of the rows is dropped for every row (a measurement that
failed on a plate), then every row still holding a non-finite value is dropped (an item the model
could not embed, a well whose measurements failed). One bad value in one well therefore costs that
well, never a feature of every other well, and never the others' statistics.
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
NA_CUTOFF = 0.05  # pycytominer's: features non-finite in more than this share of rows are dropped
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
    and the first rows and columns at fault. ``drop`` removes the features non-finite in more than
    ``NA_CUTOFF`` of the rows, then the rows still non-finite somewhere; the returned record has
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
        raise DataError(
            f"{what}: {int((~finite).sum())} non-finite feature value(s) in {int((~finite.all(axis=1)).sum())} row(s); first: {where}"
        )
    bad_features = (~finite).mean(axis=0) > NA_CUTOFF
    bad_rows = ~finite[:, ~bad_features].all(axis=1)
    dropped_rows = [row_label(table, r) for r in np.flatnonzero(bad_rows)[:SHOWN]]
    dropped_features = [f for f, bad in zip(features, bad_features) if bad]
    kept = table.loc[~bad_rows].drop(columns=dropped_features).reset_index(drop=True)
    record = {
        "n_rows_dropped": int(bad_rows.sum()),
        "rows": dropped_rows,
        "n_features_dropped": len(dropped_features),
        "features": dropped_features[:SHOWN],
        "first_values": where,
    }
    log.warning(
        "%s: dropped %d row(s) and %d feature(s) with non-finite values; first: %s",
        what,
        record["n_rows_dropped"],
        record["n_features_dropped"],
        where,
    )
    return kept, record
