"""Profile normalisation against a reference population: z-score, robust z-score (median and
MAD, as JUMP's profiling recipe), sphering, TVN.

The reference is every row (``all``) or the control rows (``controls``, ``Metadata_Control``); a
``by`` column (e.g. the plate) fits one transform per group. All transforms are fitted on the
reference rows and applied to every row; a group with fewer than two reference rows (or no
``by`` / control column) raises :class:`~cell_dino.core.undefined.Undefined`. z-score, robust z-score
and sphering are pycytominer's ``normalize`` (``standardize``, ``mad_robustize``, ``spherize``); TVN (Ando et al. 2017), which pycytominer lacks, is PCA whitening here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.decomposition import PCA

from cell_dino.core.config import Count, Fraction, NonNegative, Positive, settings
from cell_dino.core.undefined import Undefined, require
from cell_dino.integrate.table import CONTROL, controls, feature_columns, feature_matrix, with_features

log = logging.getLogger(__name__)
Reference = Literal["all", "controls"]
SHOWN = 5  # features named in a warning
MIN_REFERENCE = 2  # reference rows per group: a mean and a spread need two


def reference_mask(profiles: pd.DataFrame, reference: Reference) -> np.ndarray:
    """The reference rows; raises :class:`~cell_dino.core.undefined.Undefined` without controls."""
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
        try:
            values = fit_apply(x[rows & ref], x[rows])
        except Undefined as why:
            raise Undefined(f"{name}: {why}") from why
        if out is None:
            out = np.empty((len(x), values.shape[1]))
        require(
            values.shape[1] == out.shape[1],
            f"{name} keeps {values.shape[1]} component(s), another group {out.shape[1]}: groups must give the same features",
        )
        out[rows] = values
    return with_features(profiles, out, prefix)


PycytominerMethod = Literal["standardize", "mad_robustize", "spherize"]
SphereMethod = Literal["ZCA", "ZCA-cor", "PCA", "PCA-cor"]  # pycytominer's Spherize (Kessy et al. 2018)


def _pycytominer(method: PycytominerMethod, **options) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``pycytominer.normalize`` with ``method`` as a fit (on the reference rows) and apply (to
    every row) of feature matrices; its refusals (a feature constant in the reference rows, for
    correlation sphering) become :class:`~cell_dino.core.undefined.Undefined` with pycytominer's reason."""

    def fit_apply(reference: np.ndarray, x: np.ndarray) -> np.ndarray:
        from pycytominer import normalize

        features = [f"feature_{i}" for i in range(x.shape[1])]
        frame = pd.DataFrame(np.vstack([reference, x]), columns=features)
        frame.insert(0, "Metadata_Reference", np.arange(len(frame)) < len(reference))
        try:
            out = normalize(
                frame,
                features=features,
                meta_features=["Metadata_Reference"],
                samples="Metadata_Reference == True",
                method=method,
                **options,
            )
        except ValueError as error:
            raise Undefined(f"pycytominer {method}: {error}") from error
        return out.drop(columns="Metadata_Reference").to_numpy(dtype=np.float64)[len(reference) :]  # PCA renames them PC1...

    return fit_apply


def zscore(profiles: pd.DataFrame, reference: Reference = "all", by: str | None = None) -> pd.DataFrame:
    """Each feature centred and scaled by the reference rows' mean and standard deviation
    (population, ddof 0; a constant feature is only centred): pycytominer's ``standardize``."""
    return _per_group(profiles, by, _pycytominer("standardize"), reference)


def robust_zscore(profiles: pd.DataFrame, reference: Reference = "all", by: str | None = None, epsilon: float = 1e-18) -> pd.DataFrame:
    """Each feature centred on the reference rows' median and divided by their MAD (scaled by
    1.4826 to a normal's sd) plus ``epsilon``: pycytominer's ``mad_robustize``, the JUMP
    profiling recipe's normalisation per plate (every well, or the negative controls). A feature
    whose MAD is 0 in a group's reference rows (a count, an Euler number: 6 of Ljosa's 516 on some
    BBBC021 plates) would be divided by ``epsilon`` alone, to 1e16 or infinity: it is left out of
    every row, with a warning naming it, as JUMP's feature selection after this step drops it."""
    from scipy.stats import median_abs_deviation

    ref, features = reference_mask(profiles, reference), feature_columns(profiles)
    groups = pd.Series(0, index=profiles.index) if by is None or by not in profiles.columns else profiles[by]
    mad = (
        profiles.loc[ref, features].groupby(groups[ref].to_numpy(), dropna=False).agg(lambda v: median_abs_deviation(v, nan_policy="omit"))
    )
    flat = [f for f in features if (mad[f] == 0).any()]
    if flat:
        log.warning("robust z-score: %d feature(s) with zero MAD in a group's reference rows left out: %s", len(flat), flat[:SHOWN])
    kept = profiles.drop(columns=flat)
    return _per_group(kept, by, _pycytominer("mad_robustize", mad_robustize_epsilon=epsilon), reference)


def sphering(
    profiles: pd.DataFrame, reference: Reference = "controls", epsilon: float = 1e-6, by: str | None = None, method: SphereMethod = "ZCA"
) -> pd.DataFrame:
    """Whitening fitted on the reference rows: pycytominer's ``spherize`` (``method`` ZCA by
    default; ``epsilon`` is added to the singular values of the centred reference rows, so its
    strength grows with their number). Raises :class:`~cell_dino.core.undefined.Undefined` with
    pycytominer's reason when it refuses (a feature constant in the reference rows, for the
    ``-cor`` methods); collinear reference rows are regularised by ``epsilon`` only."""
    return _per_group(profiles, by, _pycytominer("spherize", spherize_method=method, spherize_epsilon=epsilon), reference)


def _zscore(reference: np.ndarray, x: np.ndarray) -> np.ndarray:
    std = reference.std(axis=0)
    return (x - reference.mean(axis=0)) / np.where(std > 0, std, 1.0)


TVN_VARIANCE_TOLERANCE = 1e-6  # a component whose control variance is under this share of the largest is dropped


def _tvn(n_components: int | float | Literal["full"] | None, tolerance: float = TVN_VARIANCE_TOLERANCE):
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
        variance = pca.explained_variance_
        kept = variance > tolerance * variance.max(initial=0.0)
        require(kept.any(), "TVN: the control rows do not vary (no component has any variance)")
        if not kept.all():
            log.warning(
                "TVN: %d of %d components left out: their control variance is under %g of the largest (whitening divides each "
                "component by its spread; n centred control rows span at most n - 1 dimensions)",
                int((~kept).sum()),
                len(kept),
                tolerance,
            )
        return pca.transform(_zscore(reference, x))[:, kept]

    return fit_apply


def tvn(
    profiles: pd.DataFrame,
    n_components: int | float | Literal["full"] | None = None,
    by: str | None = None,
    tolerance: float = TVN_VARIANCE_TOLERANCE,
) -> pd.DataFrame:
    """Typical variation normalisation (Ando et al. 2017): PCA whitening fitted on the controls.

    Features are scaled by the controls' statistics first; ``n_components`` keeps that many
    components (or that share of the variance), ``full`` every feature (WS-DINO; raises
    :class:`~cell_dino.core.undefined.Undefined` unless there are more control rows than features), and
    defaults to all the controls support. Whatever the choice, a component whose control variance
    is at most ``tolerance`` times the largest is left out, with a warning: whitening would divide it
    by its near-zero spread (on the real Ljosa wells, the last of 330 components of 330 DMSO wells
    has variance 0 and took NSC from 0.874 to 0.073, with values of 1e15 and more).
    """
    return _per_group(profiles, by, _tvn(n_components, tolerance), "controls", prefix="tvn")


Method = Literal[
    "none", "zscore", "zscore_plate_controls", "mad_robustize_plate", "mad_robustize_plate_controls", "tvn", "sphering", "harmony"
]
NormalisationLevel = Literal["well", "fov"]  # the profiles a normalisation is fitted on and applied to


@settings
class NormalisationSettings:
    """The settings of each normalisation (their references' defaults)."""

    tvn_components: Count | Fraction | Literal["full"] | None = None  # TVN (Ando et al. 2017): every component the controls support
    tvn_variance_tolerance: Annotated[float, Field(gt=0, lt=1)] = (
        TVN_VARIANCE_TOLERANCE  # components under this share of the largest: dropped
    )
    sphering_reference: Reference = "controls"
    sphering_epsilon: Positive = 1e-6  # pycytominer's spherize default
    sphering_method: SphereMethod = "ZCA"  # pycytominer's normalize defaults to ZCA-cor; ZCA as Ljosa's and DINO4Cells' sphering
    mad_robustize_epsilon: NonNegative = 1e-18  # pycytominer's default; JUMP's recipe uses 0
    harmony_covariate: str = "Metadata_Batch"
    harmony_components: Count = 50  # principal components Harmony corrects
    harmony_theta: NonNegative = 2.0  # Harmony's diversity penalty (its default)


def normalised(
    wells: pd.DataFrame, method: Method, settings: NormalisationSettings = NormalisationSettings(), seed: int = 0
) -> pd.DataFrame:
    """Well profiles after one normalisation or batch correction, fitted at well level: ``none``,
    ``zscore`` (every well), ``zscore_plate_controls`` (per plate, against its controls),
    ``mad_robustize_plate`` and ``mad_robustize_plate_controls`` (median and MAD per plate, of
    every well or of the controls: JUMP's ``normalize`` and ``normalize_negcon``), ``tvn``,
    ``sphering``, or ``harmony`` (after a global z-score, so PCA sees comparable scales).
    Raises :class:`~cell_dino.core.undefined.Undefined` when the wells cannot support it."""
    from cell_dino.integrate.batch_correction import harmony

    s = settings
    if method == "none":
        return wells
    if method == "zscore":
        return zscore(wells, "all")
    if method == "zscore_plate_controls":
        return zscore(wells, "controls", by="Metadata_Plate")
    if method in ("mad_robustize_plate", "mad_robustize_plate_controls"):
        return robust_zscore(wells, "controls" if method.endswith("controls") else "all", "Metadata_Plate", s.mad_robustize_epsilon)
    if method == "tvn":
        return tvn(wells, s.tvn_components, tolerance=s.tvn_variance_tolerance)
    if method == "sphering":
        return sphering(wells, s.sphering_reference, s.sphering_epsilon, method=s.sphering_method)
    if method == "harmony":
        return harmony(zscore(wells, "all"), s.harmony_covariate, s.harmony_components, s.harmony_theta, seed)
    raise ValueError(f"unknown normalisation {method!r}")
