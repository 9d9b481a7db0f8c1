"""Average precision of every query against its positive and negative profiles, by cosine
similarity, computed in blocks of queries so memory stays ``block x N``; each query's
candidates are sorted once and its positives located by binary search.

Tied similarities carry no information, so a tie is scored by the AP expected over every order of
its members (McSherry & Najork 2008, "Computing information retrieval performance measures
efficiently in the presence of tied scores"): identical profiles score at chance, never 1.0.
copairs breaks ties by list order (positives first), which gives constant features an AP of 1, so
the APs are computed here; copairs' ``mean_average_precision`` then gives mAP and p-values from
this table, which has its columns (``n_pos_pairs``, ``n_total_pairs``, ``average_precision``,
``normalized_average_precision``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from copairs.map.normalization import expected_ap
from scipy.special import digamma

from cell_dino.evaluation.similarity import TIE_DECIMALS, tie_key, unit_rows

# positions in the query list -> (candidate profiles (m,), positive and negative masks (queries x m))
Candidates = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
BLOCK_ELEMENTS = 2**24  # similarities held at once (queries x profiles)
_FLOOR, _BAND = -2.0 * 10**TIE_DECIMALS, 4.0 * 10**TIE_DECIMALS  # below every tie key; one row's span of keys


def _banded(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Keys shifted into one disjoint band per row, so one sorted array serves every row."""
    return values.astype(np.float64) + rows * _BAND


def _above_and_tied(sorted_banded: np.ndarray, banded: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each value of ``banded`` (in row ``rows``): how many of its row's sorted values are
    greater, and how many equal it."""
    row_end = np.searchsorted(sorted_banded, rows * _BAND + _BAND / 2)
    right = np.searchsorted(sorted_banded, banded, side="right")
    return row_end - right, right - np.searchsorted(sorted_banded, banded, side="left")


def expected_average_precision(key: np.ndarray, positive: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Tie-aware AP of each row: ``key`` (rows x N) the tie keys (:func:`tie_key`), ``positive``
    and ``candidate`` boolean masks (positives are candidates). NaN for rows without positives.

    A positive whose key ties with ``n`` candidates holding ``r`` positives, below ``s``
    candidates holding ``R`` positives, sits at position ``j`` in ``s+1 .. s+n`` with
    probability ``1/n`` and then has, in expectation, ``R + 1 + (j - s - 1)(r - 1)/(n - 1)``
    positives at or above it. Summed over ``j`` with harmonic numbers ``H`` (digamma), each
    positive adds ``((R + 1) S + (r - 1)/(n - 1) (n - (s + 1) S)) / n``, ``S = H(s + n) - H(s)``;
    only the row's candidates are sorted (one vectorised sort), positives are then located by
    binary search."""
    n_rows = key.shape[0]
    band = np.arange(n_rows)[:, None]
    ranked = np.sort(np.where(candidate, key, np.float32(_FLOOR)), axis=1)
    q, c = np.nonzero(positive)
    value = _banded(key[q, c], q)
    s, n = _above_and_tied(_banded(ranked, band).ravel(), value, q)
    big_r, r = _above_and_tied(np.sort(value), value, q)
    harmonic = np.where(n == 1, 1.0 / (s + 1.0), digamma(s + n + 1.0) - digamma(s + 1.0))  # exact without a tie
    share = np.divide(r - 1, n - 1, out=np.zeros(len(n)), where=n > 1)
    term = ((big_r + 1) * harmonic + share * (n - (s + 1) * harmonic)) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(q, weights=term, minlength=n_rows) / positive.sum(axis=1)


def _normalised(ap: np.ndarray, n_pos: np.ndarray, n_neg: np.ndarray) -> np.ndarray:
    """copairs' normalised AP, ``(AP - E[AP]) / (1 - E[AP])`` clipped to [-1, 1], with its exact
    chance level ``expected_ap`` computed once per distinct (positives, negatives) pair: copairs'
    ``normalize_ap`` recomputes it per query in a Python loop (58 of 70 s at 50k profiles)."""
    normalised = np.full(len(ap), np.nan)
    valid = n_pos > 0
    pairs, inverse = np.unique(np.stack([n_pos[valid], n_neg[valid]], axis=1), axis=0, return_inverse=True)
    chance = np.array([expected_ap(int(m), int(k)) for m, k in pairs])[inverse.ravel()]
    normalised[valid] = np.clip((ap[valid] - chance) / np.maximum(1 - chance, 1e-10), -1.0, 1.0)
    return normalised


def blocked_average_precision(features: np.ndarray, candidates: Candidates, queries: np.ndarray | None = None) -> pd.DataFrame:
    """Cosine-similarity AP of each query (rows of ``features`` at ``queries``, default all)
    against the profiles ``candidates`` names for it, split into positives and negatives; one row
    per query with copairs' columns (NaN AP without positives). Queries go in blocks, so memory
    stays ``block x N``. Zero-norm profiles must be left out first (their cosine similarity is
    undefined)."""
    import torch  # here, not at import: the explorer reads these modules without torch

    x = torch.from_numpy(unit_rows(features).astype(np.float32))
    queries = np.arange(len(x)) if queries is None else np.asarray(queries)
    n = len(queries)
    ap, n_pos, n_total = np.full(n, np.nan), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    block = max(1, BLOCK_ELEMENTS // max(len(x), 1))
    for start in range(0, n, block):
        part = np.arange(start, min(start + block, n))
        columns, pos, neg = candidates(part)
        candidate = pos | neg
        key = tie_key((x[queries[part]] @ x[columns].T).numpy())
        n_pos[part], n_total[part] = pos.sum(axis=1), candidate.sum(axis=1)
        ap[part] = expected_average_precision(key, pos, candidate)
    ap[n_pos == 0] = np.nan
    return pd.DataFrame(
        {
            "n_pos_pairs": n_pos,
            "n_total_pairs": n_total,
            "average_precision": ap,
            "normalized_average_precision": _normalised(ap, n_pos, n_total - n_pos),
        }
    )
