"""The Mantel test (Mantel 1967): correlation of two distance matrices over the same objects,
with a p-value from joint permutations of one matrix's rows and columns."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import rankdata

from cell_dino.core.undefined import require

Alternative = Literal["two-sided", "greater", "less"]


@dataclass(frozen=True)
class MantelResult:
    statistic: float  # Pearson (or Spearman) correlation of the upper triangles
    p_value: float
    permutations: int  # number of orderings scored (all of them when ``exact``)
    exact: bool
    n: int


def _check(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise ValueError(f"Mantel: {name} must be a square matrix, got shape {x.shape}")
    if not np.allclose(x, x.T, equal_nan=True) or not np.isfinite(x).all():
        raise ValueError(f"Mantel: {name} must be symmetric and finite")
    return x


def _standardised(values: np.ndarray) -> np.ndarray:
    centred = values - values.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(centred, axis=-1, keepdims=True)
    require(not np.any(norm == 0), "Mantel: a distance matrix has constant off-diagonal entries (no variation to correlate)")
    return centred / norm


def _p_value(observed: float, null: np.ndarray, alternative: Alternative, include_observed: bool) -> float:
    if alternative == "greater":
        hits = np.sum(null >= observed - 1e-12)
    elif alternative == "less":
        hits = np.sum(null <= observed + 1e-12)
    else:
        hits = np.sum(np.abs(null) >= abs(observed) - 1e-12)
    return float((hits + include_observed) / (len(null) + include_observed))


def mantel(
    x: np.ndarray,
    y: np.ndarray,
    permutations: int = 999,
    method: Literal["pearson", "spearman"] = "pearson",
    alternative: Alternative = "two-sided",
    seed: int = 0,
) -> MantelResult:
    """Correlation of the upper triangles of ``x`` and ``y``; the null permutes the objects of
    ``y``. When ``n!`` is at most ``permutations`` every ordering is scored (an exact p-value);
    otherwise ``p = (hits + 1) / (permutations + 1)`` over seeded random orderings."""
    x, y = _check(x, "x"), _check(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"Mantel: matrices differ in shape, {x.shape} vs {y.shape}")
    n = len(x)
    require(n >= 3, f"Mantel needs at least 3 objects, got {n}")
    rows, cols = np.triu_indices(n, k=1)
    transform = rankdata if method == "spearman" else np.asarray
    x_flat = _standardised(transform(x[rows, cols]))
    observed = float(x_flat @ _standardised(transform(y[rows, cols])))
    exact = math.factorial(n) <= permutations
    if exact:
        orders = np.array(list(itertools.permutations(range(n))))
    else:
        rng = np.random.default_rng(seed)
        orders = np.stack([rng.permutation(n) for _ in range(permutations)])
    null = np.empty(len(orders))
    for start in range(0, len(orders), 256):
        block = orders[start : start + 256]
        permuted = y[block[:, rows], block[:, cols]]
        if method == "spearman":
            permuted = rankdata(permuted, axis=1)
        null[start : start + len(block)] = _standardised(permuted) @ x_flat
    return MantelResult(observed, _p_value(observed, null, alternative, include_observed=not exact), len(orders), exact, n)
