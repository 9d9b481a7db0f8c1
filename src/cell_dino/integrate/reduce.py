"""Standardised principal components and UMAP of profiles; UMAP can be fitted on one level and
project another (DINO4Cells)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from cell_dino.core.undefined import attempt, require
from cell_dino.integrate.table import feature_columns, feature_matrix, metadata_columns, seeded_subset, with_features

log = logging.getLogger(__name__)
MIN_UMAP_ROWS = 4  # umap-learn's spectral layout needs k < N eigenvectors


def standardised_pcs(values: np.ndarray, n_components: int, seed: int = 0) -> np.ndarray:
    """Principal components of the features z-scored over the rows (constant features kept at 0);
    raises :class:`~cell_dino.core.undefined.Undefined` with fewer than 2 rows."""
    require(len(values) >= 2, f"principal components need at least 2 rows, got {len(values)}")
    scale = values.std(axis=0)
    values = (values - values.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    return PCA(n_components=min(n_components, values.shape[1], len(values) - 1), random_state=seed).fit_transform(values)


def umap_coordinates(
    profiles: pd.DataFrame,
    fit_on: pd.DataFrame | None = None,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    metric: str = "cosine",
    seed: int = 0,
) -> pd.DataFrame:
    """2-D UMAP (``umap_0``, ``umap_1``) of ``profiles``; fitted on ``fit_on`` (e.g. FOV means,
    with the same feature columns) and used to project ``profiles`` when given. Raises
    :class:`~cell_dino.core.undefined.Undefined` with fewer than ``MIN_UMAP_ROWS`` rows to fit on."""
    import umap

    reference = profiles if fit_on is None else fit_on
    if feature_columns(reference) != feature_columns(profiles):
        raise ValueError("umap fit_on must have the same feature columns as the profiles it projects")
    x, fit_x = feature_matrix(profiles), feature_matrix(reference)
    require(len(fit_x) >= MIN_UMAP_ROWS, f"UMAP needs at least {MIN_UMAP_ROWS} profiles to fit on, got {len(fit_x)}")
    neighbours = max(2, min(n_neighbors, len(fit_x) - 1))
    reducer = umap.UMAP(n_neighbors=neighbours, min_dist=min_dist, metric=metric, random_state=seed, n_jobs=1)
    fitted = reducer.fit_transform(fit_x)
    coords = fitted if fit_on is None else reducer.transform(x)
    log.info("UMAP of %d rows (fitted on %d)", len(x), len(fit_x))
    return with_features(profiles, np.asarray(coords), prefix="umap")


def item_umap(
    items: pd.DataFrame, fit_on: pd.DataFrame, max_items: int, n_neighbors: int, min_dist: float, seed: int
) -> tuple[pd.DataFrame, dict]:
    """A UMAP fitted on ``fit_on`` (FOV or well means of the items) with a seeded sample of at most
    ``max_items`` items projected into it, and a record; empty, the reason under ``undefined``,
    when there are too few profiles to fit on."""
    sample = seeded_subset(items, max_items, seed)
    features = feature_columns(sample)
    fit_on = fit_on[[c for c in metadata_columns(fit_on) if c != "Metadata_Count"] + features]
    undefined: dict[str, str] = {}
    umap = attempt("umap", lambda: umap_coordinates(sample, fit_on, n_neighbors, min_dist, seed=seed), undefined)
    return (pd.DataFrame() if umap is None else umap), {"undefined": undefined}
