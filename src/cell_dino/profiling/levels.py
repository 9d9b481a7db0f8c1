"""The aggregation chain of a screen: items (cells or fields) -> FOV -> well -> treatment."""

from __future__ import annotations

import pandas as pd

from cell_dino.profiling.aggregate import Statistic, aggregate

FOV_KEYS = ["Metadata_FOV"]
WELL_KEYS = ["Metadata_Plate", "Metadata_Well"]
TREATMENT_KEYS = ["Metadata_Treatment"]
ITEM_INDEX = "Metadata_Index"


def fov_profiles(items: pd.DataFrame, statistic: Statistic = "mean") -> pd.DataFrame:
    """Per-field profiles; fields embedded whole are already one row per field."""
    items = items.drop(columns=[ITEM_INDEX], errors="ignore")
    if not items["Metadata_FOV"].duplicated().any():
        return items.assign(Metadata_Count=1)
    return aggregate(items, FOV_KEYS, statistic)


def well_profiles(fovs: pd.DataFrame, statistic: Statistic = "mean") -> pd.DataFrame:
    return aggregate(fovs.drop(columns=["Metadata_Count"], errors="ignore"), WELL_KEYS, statistic)


def treatment_profiles(wells: pd.DataFrame, statistic: Statistic = "median") -> pd.DataFrame:
    """Per-treatment profiles (WS-DINO: the median over wells)."""
    return aggregate(wells.drop(columns=["Metadata_Count"], errors="ignore"), TREATMENT_KEYS, statistic)
