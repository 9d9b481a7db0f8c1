"""Profile normalisation against a reference population: z-score, TVN, sphering.

The reference is every row (``all``) or the control rows (``controls``, ``Metadata_Control``); a
``by`` column (e.g. the plate) fits one transform per group. All transforms are fitted on the
reference rows and applied to every row; a group with fewer than two reference rows (or no
``by`` / control column) raises :class:`~cell_dino.undefined.Undefined`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from cell_dino.config import Count, Fraction, NonNegative, Positive, settings
from cell_dino.profiling.table import CONTROL, controls, feature_matrix, with_features
from cell_dino.undefined import require

Reference = Literal["all", "controls"]
MIN_REFERENCE = 2  # reference rows per group: a mean and a spread need two


def reference_mask(profiles: pd.DataFrame, reference: Reference) -> np.ndarray:
    """The reference rows; raises :class:`~cell_dino.undefined.Undefined` without controls."""
    if reference == "all":
        return np.ones(len(profiles), dtype=bool)
    if reference != "controls":
        raise ValueError(f"reference must be 'all' or 'controls', got {reference!r}")
    require(CONTROL in profiles.columns, f"reference 'controls' needs a {CONTROL} column; the profiles have none")
    mask = controls(profiles)
    require(mask.sum() >= MIN_REFERENCE, f"reference 'controls' needs at least {MIN_REFERENCE} control rows, found {int(mask.sum())}")
    return mask


def _per_group(profiles: pd.DataFrame, by: str | None, fit_apply, reference: Reference, prefix: str | None = None) -> pd.DataFrame:
    x = feature_matrix(profiles)
    ref = reference_mask(profiles, reference)
    if by is not None:
        require(by in profiles.columns, f"normalise by {by}: the profiles have no {by} column")
    groups = np.zeros(len(profiles), dtype=int) if by is None else pd.factorize(profiles[by])[0]
    out = None
    for g in np.unique(groups):
        rows = groups == g
        name = "the profiles" if by is None else f"{by} {profiles[by].iloc[np.flatnonzero(rows)[0]]!r}"
        require(
            (rows & ref).sum() >= MIN_REFERENCE, f"{name} has {(rows & ref).sum()} reference row(s); at least {MIN_REFERENCE} are needed"
        )
        values = fit_apply(x[rows & ref], x[rows])
        if out is None:
            out = np.empty((len(x), values.shape[1]))
        out[rows] = values
    return with_features(profiles, out, prefix)


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


def _tvn(n_components: int | float | Literal["full"] | None):
    def fit_apply(reference: np.ndarray, x: np.ndarray) -> np.ndarray:
        supported = min(reference.shape)
        if n_components == "full":
            require(
                reference.shape[0] > reference.shape[1],
                f"TVN at full rank needs more control rows than features: {reference.shape[0]} control rows for "
                f"{reference.shape[1]} features (the paper fits on every DMSO image; set tvn_components to keep fewer)",
            )
            return fit_apply_pca(reference, x, reference.shape[1])
        require(
            not isinstance(n_components, int) or n_components <= supported,
            f"TVN keeps {n_components} components, but {reference.shape[0]} control rows of {reference.shape[1]} features support at most {supported}",
        )
        return fit_apply_pca(reference, x, n_components)

    def fit_apply_pca(reference: np.ndarray, x: np.ndarray, components: int | float | None) -> np.ndarray:
        pca = PCA(n_components=components, whiten=True, svd_solver="full").fit(_zscore(reference, reference))
        return pca.transform(_zscore(reference, x))

    return fit_apply


def tvn(profiles: pd.DataFrame, n_components: int | float | Literal["full"] | None = None, by: str | None = None) -> pd.DataFrame:
    """Typical variation normalisation (Ando et al. 2017): PCA whitening fitted on the controls.

    Features are scaled by the controls' statistics first; ``n_components`` keeps that many
    components (or that share of the variance), ``full`` every feature (WS-DINO; raises
    :class:`~cell_dino.undefined.Undefined` unless there are more control rows than features), and
    defaults to all the controls support.
    """
    return _per_group(profiles, by, _tvn(n_components), "controls", prefix="tvn")


Method = Literal["none", "zscore", "zscore_plate_controls", "tvn", "sphering", "harmony"]
NormalisationLevel = Literal["well", "fov"]  # the profiles a normalisation is fitted on and applied to


@settings
class NormalisationSettings:
    """The settings of each normalisation (their references' defaults)."""

    tvn_components: Count | Fraction | Literal["full"] | None = None  # TVN (Ando et al. 2017): every component the controls support
    sphering_reference: Reference = "controls"
    sphering_epsilon: Positive = 1e-6  # pycytominer's spherize default
    harmony_covariate: str = "Metadata_Batch"
    harmony_components: Count = 50  # principal components Harmony corrects
    harmony_theta: NonNegative = 2.0  # Harmony's diversity penalty (its default)


def normalised(
    wells: pd.DataFrame, method: Method, settings: NormalisationSettings = NormalisationSettings(), seed: int = 0
) -> pd.DataFrame:
    """Well profiles after one normalisation or batch correction, fitted at well level: ``none``,
    ``zscore`` (every well), ``zscore_plate_controls`` (per plate, against its controls), ``tvn``,
    ``sphering``, or ``harmony`` (after a global z-score, so PCA sees comparable scales).
    Raises :class:`~cell_dino.undefined.Undefined` when the wells cannot support it."""
    from cell_dino.profiling.batch_correction import harmony

    s = settings
    if method == "none":
        return wells
    if method == "zscore":
        return zscore(wells, "all")
    if method == "zscore_plate_controls":
        return zscore(wells, "controls", by="Metadata_Plate")
    if method == "tvn":
        return tvn(wells, s.tvn_components)
    if method == "sphering":
        return sphering(wells, s.sphering_reference, s.sphering_epsilon)
    if method == "harmony":
        return harmony(zscore(wells, "all"), s.harmony_covariate, s.harmony_components, s.harmony_theta, seed)
    raise ValueError(f"unknown normalisation {method!r}")
