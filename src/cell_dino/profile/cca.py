"""Canonical correlation analysis between two modalities measured on the same groups (e.g. image
profiles and expression profiles per treatment), with cross-modal top-1 matching on held-out groups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cross_decomposition import CCA
from sklearn.decomposition import PCA
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cell_dino.core.undefined import require
from cell_dino.evaluate.neighbours import unit_rows


@dataclass(frozen=True)
class CcaResult:
    correlations: list[float]  # canonical correlations, in-sample
    matching_accuracy: float  # held-out groups whose nearest other-modality group is themselves
    chance: float  # expected accuracy of random matching on the same held-out sets
    n_groups: int
    n_components: int


def _reducer(n_components: int):
    return make_pipeline(StandardScaler(), PCA(n_components=n_components, random_state=0))


def fit_cca(x: np.ndarray, y: np.ndarray, n_components: int, n_pcs: int) -> tuple:
    """Standardise and PCA-reduce each modality, then fit CCA; returns the fitted parts."""
    n_pcs = min(n_pcs, len(x) - 1, x.shape[1], y.shape[1])
    components = min(n_components, n_pcs)
    rx, ry = _reducer(n_pcs).fit(x), _reducer(n_pcs).fit(y)
    cca = CCA(n_components=components, max_iter=2000).fit(rx.transform(x), ry.transform(y))
    return rx, ry, cca


def canonical_scores(parts: tuple, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rx, ry, cca = parts
    return cca.transform(rx.transform(x), ry.transform(y))


def top1_matching(u: np.ndarray, v: np.ndarray) -> float:
    """Share of rows of ``u`` whose most correlated row of ``v`` (and vice versa) is the same group,
    averaged over both directions."""
    similarity = unit_rows(u - u.mean(axis=1, keepdims=True)) @ unit_rows(v - v.mean(axis=1, keepdims=True)).T
    truth = np.arange(len(u))
    return float(((similarity.argmax(axis=1) == truth).mean() + (similarity.argmax(axis=0) == truth).mean()) / 2)


def cca_matching(x: np.ndarray, y: np.ndarray, n_components: int = 5, n_pcs: int = 10, n_splits: int = 5, seed: int = 0) -> CcaResult:
    """Rows of ``x`` and ``y`` are the same groups. Canonical correlations of a fit on all groups;
    matching accuracy from ``n_splits``-fold cross-validation over groups: fitted on the training
    groups, each held-out group is matched among the held-out groups of the other modality."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) != len(y):
        raise ValueError(f"CCA: the modalities have {len(x)} and {len(y)} groups; rows must be the same groups")
    require(len(x) >= max(2 * n_splits, 6), f"CCA matching needs at least {max(2 * n_splits, 6)} shared groups, got {len(x)}")
    parts = fit_cca(x, y, n_components, n_pcs)
    u, v = canonical_scores(parts, x, y)
    correlations = [float(np.corrcoef(u[:, k], v[:, k])[0, 1]) for k in range(u.shape[1])]
    hits = 0.0
    for train, test in KFold(n_splits, shuffle=True, random_state=seed).split(x):
        fold = fit_cca(x[train], y[train], n_components, n_pcs)
        hits += top1_matching(*canonical_scores(fold, x[test], y[test])) * len(test)
    # random matching finds 1 of a fold's groups: n_splits hits over all groups
    return CcaResult(correlations, hits / len(x), n_splits / len(x), len(x), u.shape[1])
