"""The aggregation chain: items (cells or fields) -> FOV -> well -> treatment, each level grouped
by the keys :class:`Levels` names (a screen's by default; a data set without plates names its own,
e.g. HPA: image -> image -> antibody, WTC11: cell -> FOV)."""

from __future__ import annotations

import pandas as pd

from cell_dino.core.config import settings
from cell_dino.integrate.aggregate import Statistic, aggregate

ITEM_INDEX = "Metadata_Index"


@settings
class Levels:
    """The grouping keys of each aggregation level (``Metadata_*`` columns)."""

    fov: tuple[str, ...] = ("Metadata_FOV",)
    well: tuple[str, ...] = ("Metadata_Plate", "Metadata_Well")
    treatment: tuple[str, ...] = ("Metadata_Treatment",)


SCREEN = Levels()
TREATMENT_KEYS = list(SCREEN.treatment)


def fov_profiles(items: pd.DataFrame, statistic: Statistic = "mean", keys: tuple[str, ...] = SCREEN.fov) -> pd.DataFrame:
    """Per-field profiles; fields embedded whole are already one row per field."""
    items = items.drop(columns=[ITEM_INDEX], errors="ignore")
    if set(keys) <= set(items.columns) and not items.duplicated(list(keys)).any() and not items[list(keys)].isna().any(axis=None):
        return items.assign(Metadata_Count=1)
    return aggregate(items, list(keys), statistic)


def well_profiles(fovs: pd.DataFrame, statistic: Statistic = "mean", keys: tuple[str, ...] = SCREEN.well) -> pd.DataFrame:
    return aggregate(fovs.drop(columns=["Metadata_Count"], errors="ignore"), list(keys), statistic)


def treatment_profiles(wells: pd.DataFrame, statistic: Statistic = "median", keys: tuple[str, ...] = SCREEN.treatment) -> pd.DataFrame:
    """Per-treatment profiles (WS-DINO: the median over wells)."""
    return aggregate(wells.drop(columns=["Metadata_Count"], errors="ignore"), list(keys), statistic)
