"""Aggregation of profiles to a coarser level: cell -> FOV -> well -> treatment."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from cell_dino.profiling.table import feature_columns, metadata_columns, require_columns

Statistic = Literal["mean", "median"]


def aggregate(profiles: pd.DataFrame, by: list[str], statistic: Statistic = "mean") -> pd.DataFrame:
    """One row per group of ``by``: the feature ``statistic`` and every metadata column that is
    constant within all groups (others, e.g. ``Metadata_Site`` at well level, are dropped)."""
    require_columns(profiles, by, "aggregate by")
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
