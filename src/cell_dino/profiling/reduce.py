"""PCA and UMAP of profiles; UMAP can be fitted on one level and project another (DINO4Cells)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from cell_dino.profiling.table import feature_columns, feature_matrix, with_features

log = logging.getLogger(__name__)


def pca(profiles: pd.DataFrame, n_components: int | float = 50, seed: int = 0) -> pd.DataFrame:
    """Principal components (``pc_i``); an int larger than the data allows is lowered to fit."""
    x = feature_matrix(profiles)
    if isinstance(n_components, int):
        n_components = min(n_components, *x.shape)
    return with_features(profiles, PCA(n_components=n_components, random_state=seed).fit_transform(x), prefix="pc")


def standardised_pcs(values: np.ndarray, n_components: int, seed: int = 0) -> np.ndarray:
    """Principal components of the features z-scored over the rows (constant features kept at 0)."""
    scale = values.std(axis=0)
    values = (values - values.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    return PCA(n_components=min(n_components, values.shape[1], len(values) - 1), random_state=seed).fit_transform(values)


def umap_coordinates(
    profiles: pd.DataFrame, fit_on: pd.DataFrame | None = None, n_neighbors: int = 15,
    min_dist: float = 0.1, metric: str = "cosine", seed: int = 0,
) -> pd.DataFrame:  # fmt: skip
    """2-D UMAP (``umap_0``, ``umap_1``) of ``profiles``; fitted on ``fit_on`` (e.g. FOV means,
    with the same feature columns) and used to project ``profiles`` when given."""
    import umap

    reference = profiles if fit_on is None else fit_on
    if feature_columns(reference) != feature_columns(profiles):
        raise ValueError("umap fit_on must have the same feature columns as the profiles it projects")
    x, fit_x = feature_matrix(profiles), feature_matrix(reference)
    neighbours = max(2, min(n_neighbors, len(fit_x) - 1))
    reducer = umap.UMAP(n_neighbors=neighbours, min_dist=min_dist, metric=metric, random_state=seed, n_jobs=1)
    fitted = reducer.fit_transform(fit_x)
    coords = fitted if fit_on is None else reducer.transform(x)
    log.info("UMAP of %d rows (fitted on %d)", len(x), len(fit_x))
    return with_features(profiles, np.asarray(coords), prefix="umap")
