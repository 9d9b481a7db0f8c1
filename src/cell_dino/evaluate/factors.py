"""Mutual-information factor analysis (DINO4Cells): which annotated factor each feature encodes.

Every feature is discretised into quantile bins; its mutual information (nats) with each factor
(e.g. MoA, batch, plate) is computed; each feature is assigned to the factor it is most informative
about, and the share of features per factor summarises what the representation captures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cell_dino.core.undefined import require
from cell_dino.integrate.table import feature_columns, feature_matrix, require_columns

UNINFORMATIVE = "none"


def discretise(values: np.ndarray, bins: int) -> np.ndarray:
    """Quantile-bin indices of a 1-D array (ties share a bin)."""
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, values, side="right")


def _information(codes: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Mutual information (nats) of one factor's codes (``n``) with each column of ``bins`` (``n x F``
    bin indices): the plug-in estimate of ``sklearn.metrics.mutual_info_score``, for every feature
    at once (its per-feature calls took 11 s of the BBBC021 miniature's evaluate)."""
    n, n_features = bins.shape
    n_codes, n_bins = codes.max() + 1, bins.max() + 1
    cells = (np.arange(n_features)[None, :] * n_codes + codes[:, None]) * n_bins + bins
    joint = np.bincount(cells.ravel(), minlength=n_features * n_codes * n_bins).reshape(n_features, n_codes, n_bins) / n
    expected = joint.sum(axis=2, keepdims=True) * joint.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log(joint / expected), 0.0)
    return np.maximum(terms.sum(axis=(1, 2)), 0.0)


def mutual_information(profiles: pd.DataFrame, factors: list[str], bins: int = 10) -> pd.DataFrame:
    """Features x factors matrix of mutual information (rows with a missing factor are skipped).
    Raises :class:`~cell_dino.core.undefined.Undefined` with fewer than 2 items, or a factor with fewer
    than 2 values among them (HPA's plates on Kaggle images: all missing)."""
    require_columns(profiles, factors, "mutual_information factors")
    require(len(profiles) >= 2, f"mutual information needs at least 2 items, got {len(profiles)}")
    features = feature_columns(profiles)
    out = pd.DataFrame(index=pd.Index(features, name="feature"), columns=factors, dtype=float)
    for factor in factors:
        rows = profiles[factor].notna().to_numpy()
        require(
            profiles.loc[rows, factor].nunique() >= 2,
            f"factor {factor} has {profiles.loc[rows, factor].nunique()} value(s) among the items; 2 are needed",
        )
        codes = pd.factorize(profiles.loc[rows, factor])[0]
        x = feature_matrix(profiles.loc[rows])
        out[factor] = _information(codes, np.column_stack([discretise(x[:, j], bins) for j in range(x.shape[1])]))
    return out


def factor_shares(information: pd.DataFrame) -> pd.DataFrame:
    """Share of features most informative about each factor (``factor``, ``share``, ``n_features``);
    features with no information about any factor (e.g. constant ones) count under ``none``."""
    informative = information.max(axis=1) > 0
    winners = information.idxmax(axis=1).where(informative, UNINFORMATIVE)
    winners = winners.value_counts().reindex([*information.columns, UNINFORMATIVE], fill_value=0)
    return pd.DataFrame({"factor": winners.index, "n_features": winners.to_numpy(), "share": winners.to_numpy() / len(information)})
