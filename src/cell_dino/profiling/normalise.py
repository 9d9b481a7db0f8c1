"""Profile normalisation against a reference population: z-score, TVN, sphering.

The reference is every row (``all``) or the control rows (``controls``, ``Metadata_Control``); a
``by`` column (e.g. the plate) fits one transform per group. All transforms are fitted on the
reference rows and applied to every row.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from cell_dino.profiling.table import feature_matrix, require_columns, with_features

Reference = Literal["all", "controls"]
CONTROL = "Metadata_Control"


def reference_mask(profiles: pd.DataFrame, reference: Reference) -> np.ndarray:
    if reference == "all":
        return np.ones(len(profiles), dtype=bool)
    if reference != "controls":
        raise ValueError(f"reference must be 'all' or 'controls', got {reference!r}")
    require_columns(profiles, [CONTROL], "reference 'controls'")
    mask = profiles[CONTROL].fillna(False).to_numpy(dtype=bool)
    if mask.sum() < 2:
        raise ValueError(f"reference 'controls' needs at least 2 control rows, found {int(mask.sum())}")
    return mask


def _per_group(profiles: pd.DataFrame, by: str | None, fit_apply, reference: Reference, prefix: str | None = None) -> pd.DataFrame:
    x = feature_matrix(profiles)
    ref = reference_mask(profiles, reference)
    groups = np.zeros(len(profiles), dtype=int) if by is None else pd.factorize(profiles[_checked(profiles, by)])[0]
    out = None
    for g in np.unique(groups):
        rows = groups == g
        if (rows & ref).sum() < 2:
            raise ValueError(f"group {profiles[by].iloc[np.flatnonzero(rows)[0]]!r} of {by!r} has fewer than 2 reference rows")
        values = fit_apply(x[rows & ref], x[rows])
        if out is None:
            out = np.empty((len(x), values.shape[1]))
        out[rows] = values
    return with_features(profiles, out, prefix)


def _checked(profiles: pd.DataFrame, by: str) -> str:
    require_columns(profiles, [by], "normalise by")
    return by


def _zscore(reference: np.ndarray, x: np.ndarray) -> np.ndarray:
    std = reference.std(axis=0)
    return (x - reference.mean(axis=0)) / np.where(std > 0, std, 1.0)


def zscore(profiles: pd.DataFrame, reference: Reference = "all", by: str | None = None) -> pd.DataFrame:
    """Each feature centred and scaled by the reference rows' mean and standard deviation."""
    return _per_group(profiles, by, _zscore, reference)


def _spherer(epsilon: float):
    def fit_apply(reference: np.ndarray, x: np.ndarray) -> np.ndarray:
        mean = reference.mean(axis=0)
        cov = np.cov(reference - mean, rowvar=False)
        values, vectors = np.linalg.eigh(np.atleast_2d(cov))
        whitening = vectors @ np.diag(1.0 / np.sqrt(np.clip(values, 0, None) + epsilon)) @ vectors.T
        return (x - mean) @ whitening

    return fit_apply


def sphering(profiles: pd.DataFrame, reference: Reference = "controls", epsilon: float = 1e-6, by: str | None = None) -> pd.DataFrame:
    """ZCA whitening: the reference rows get identity covariance (regularised by ``epsilon``)."""
    return _per_group(profiles, by, _spherer(epsilon), reference)


def _tvn(n_components: int | float | None):
    def fit_apply(reference: np.ndarray, x: np.ndarray) -> np.ndarray:
        scaled_ref = _zscore(reference, reference)
        pca = PCA(n_components=n_components, whiten=True, svd_solver="full").fit(scaled_ref)
        return pca.transform(_zscore(reference, x))

    return fit_apply


def tvn(profiles: pd.DataFrame, n_components: int | float | None = None, by: str | None = None) -> pd.DataFrame:
    """Typical variation normalisation (Ando et al. 2017): PCA whitening fitted on the controls.

    Features are scaled by the controls' statistics first; ``n_components`` keeps that many
    components (or that share of the variance) and defaults to all the controls support.
    """
    return _per_group(profiles, by, _tvn(n_components), "controls", prefix="tvn")
