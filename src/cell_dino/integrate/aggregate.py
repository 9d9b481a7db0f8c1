"""Aggregation of profiles to a coarser level: cell -> FOV -> well -> treatment."""

from __future__ import annotations

import logging
from typing import Literal

import pandas as pd

from cell_dino.integrate.table import feature_columns, metadata_columns, require_columns

log = logging.getLogger(__name__)
Statistic = Literal["mean", "median"]


def aggregate(profiles: pd.DataFrame, by: list[str], statistic: Statistic = "mean") -> pd.DataFrame:
    """One row per group of ``by``: the feature ``statistic`` and every metadata column that is
    constant within all groups (others, e.g. ``Metadata_Site`` at well level, are dropped). Rows
    with an empty key belong to no group and are left out, with a warning (an HPA Kaggle image has
    no antibody)."""
    require_columns(profiles, by, "aggregate by")
    unkeyed = profiles[by].isna().any(axis=1)
    if unkeyed.any():
        log.warning("aggregate by %s: %d of %d rows have no value in a key column and are left out", by, unkeyed.sum(), len(profiles))
        profiles = profiles.loc[~unkeyed]
    if statistic not in ("mean", "median"):
        raise ValueError(f"statistic must be 'mean' or 'median', got {statistic!r}")
    features = feature_columns(profiles)
    groups = profiles.groupby(by, sort=True, observed=True, dropna=False)
    values = getattr(groups[features], statistic)()
    others = [c for c in metadata_columns(profiles) if c not in by]
    constant = [c for c in others if (groups[c].nunique(dropna=False) <= 1).all()]
    meta = groups[constant].first() if constant else pd.DataFrame(index=values.index)
    meta["Metadata_Count"] = groups.size()
    return pd.concat([meta, values], axis=1).reset_index()
