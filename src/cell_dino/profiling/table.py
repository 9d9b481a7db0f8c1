"""The profile table contract: ``Metadata_*`` columns plus numeric feature columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cell_dino.data.errors import DataError
from cell_dino.data.manifest import metadata_columns
from cell_dino.profiling.finite import nonfinite_cells

METADATA_PREFIX = "Metadata_"
__all__ = ["feature_columns", "feature_matrix", "label_of", "metadata_columns", "require_columns", "with_features"]


def feature_columns(profiles: pd.DataFrame) -> list[str]:
    """Every column that is not ``Metadata_*``; all must be numeric."""
    features = [c for c in profiles.columns if not c.startswith(METADATA_PREFIX)]
    if not features:
        raise ValueError(f"profile table has no feature columns (columns: {list(profiles.columns)[:10]})")
    bad = [c for c in features if not pd.api.types.is_numeric_dtype(profiles[c])]
    if bad:
        raise ValueError(f"feature columns must be numeric; not: {bad[:5]} (prefix metadata with {METADATA_PREFIX})")
    return features


def feature_matrix(profiles: pd.DataFrame) -> np.ndarray:
    """``rows x features`` float64; raises :class:`~cell_dino.data.errors.DataError` naming the first
    non-finite values (drop them first with :func:`cell_dino.profiling.finite.finite_profiles`)."""
    features = feature_columns(profiles)
    values = profiles[features].to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise DataError(f"non-finite feature values: {nonfinite_cells(profiles, features)}")
    return values


def with_features(profiles: pd.DataFrame, values: np.ndarray, prefix: str | None = None) -> pd.DataFrame:
    """The metadata of ``profiles`` beside new feature values (named ``prefix_i`` if given, else kept)."""
    meta = profiles[metadata_columns(profiles)].reset_index(drop=True)
    names = [f"{prefix}_{i}" for i in range(values.shape[1])] if prefix else feature_columns(profiles)
    if len(names) != values.shape[1]:
        raise ValueError(f"{values.shape[1]} feature values for {len(names)} feature names")
    return pd.concat([meta, pd.DataFrame(values.astype(np.float32), columns=names)], axis=1)


def require_columns(profiles: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in profiles.columns]
    if missing:
        raise ValueError(f"{what}: column(s) {missing} not in the profile table ({metadata_columns(profiles)})")


def label_of(table: pd.DataFrame, by: list[str]) -> pd.Series:
    """One readable label per row from the ``by`` columns (joined by ' @ ')."""
    require_columns(table, by, "labels")
    return table[by].astype(str).agg(" @ ".join, axis=1)
