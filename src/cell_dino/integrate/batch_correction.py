"""Harmony (Korsunsky et al. 2019, harmonypy) over a covariate such as batch, plate or cell line."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from cell_dino.core.undefined import require
from cell_dino.integrate.table import feature_matrix, with_features

MIN_ROWS = 16  # harmonypy clusters round(N / 30) by default (round half to even: 15 rows give 0 clusters)


def harmony(profiles: pd.DataFrame, covariate: str, n_components: int = 50, theta: float = 2.0, seed: int = 0) -> pd.DataFrame:
    """Harmony-corrected principal components (``harmony_i``): PCA of the features, then Harmony
    on ``covariate``, as Harmony is meant to run on a PCA embedding.

    Raises :class:`~cell_dino.core.undefined.Undefined` without the covariate column, with fewer than 2
    of its values, or with fewer than ``MIN_ROWS`` rows (harmonypy's default: round(N / 30) clusters)."""
    import harmonypy

    require(covariate in profiles.columns, f"Harmony needs the covariate column {covariate}; the profiles have none")
    values = profiles[covariate].nunique()
    require(values >= 2, f"Harmony over {covariate} needs at least 2 of its values, found {values}")
    require(len(profiles) >= MIN_ROWS, f"Harmony needs at least {MIN_ROWS} profiles (one cluster per 30), got {len(profiles)}")
    if profiles[covariate].isna().any():
        raise ValueError(f"harmony covariate {covariate!r} has missing values")
    x = feature_matrix(profiles)
    k = min(n_components, x.shape[0] - 1, x.shape[1])
    pcs = PCA(n_components=k, random_state=seed).fit_transform(x)
    meta = pd.DataFrame({covariate: profiles[covariate].astype(str).to_numpy()})
    result = harmonypy.run_harmony(pcs, meta, covariate, theta=theta, random_state=seed, verbose=False)
    corrected = np.asarray(result.Z_corr)
    if corrected.shape[0] != len(profiles):
        corrected = corrected.T
    return with_features(profiles, corrected, prefix="harmony")
