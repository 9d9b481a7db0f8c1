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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from copairs.map.normalization import expected_ap
from scipy.special import digamma

from cell_dino.evaluate.neighbours import TIE_DECIMALS, tie_key, unit_rows

if TYPE_CHECKING:
    import torch

# positions in the query list -> (candidate profiles (m,), positive and negative masks (queries x m))
Candidates = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
BLOCK_ELEMENTS = 2**22  # similarities held at once (queries x profiles); 2^21 and 2^24 ran slower at 100k
_FLOOR = -2.0 * 10**TIE_DECIMALS  # below every tie key


def _above_and_tied(
    sorted_rows: torch.Tensor, values: torch.Tensor, q: np.ndarray, slot: np.ndarray, total: np.ndarray | int
) -> tuple[np.ndarray, ...]:
    """For the value at ``(q, slot)`` of ``values`` (rows x slots): how many of the ``total``
    values of row ``q`` of ``sorted_rows`` (ascending, anything else below them) are greater, and
    how many equal it."""
    import torch

    left = torch.searchsorted(sorted_rows, values, side="left").numpy()[q, slot]
    right = torch.searchsorted(sorted_rows, values, side="right").numpy()[q, slot]
    return total - right, right - left


def expected_average_precision(key: np.ndarray, positive: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Tie-aware AP of each row: ``key`` (rows x N) the tie keys (:func:`tie_key`), ``positive``
    and ``candidate`` boolean masks (positives are candidates). NaN for rows without positives.

    A positive whose key ties with ``n`` candidates holding ``r`` positives, below ``s``
    candidates holding ``R`` positives, sits at position ``j`` in ``s+1 .. s+n`` with
    probability ``1/n`` and then has, in expectation, ``R + 1 + (j - s - 1)(r - 1)/(n - 1)``
    positives at or above it. Summed over ``j`` with harmonic numbers ``H`` (digamma), each
    positive adds ``((R + 1) S + (r - 1)/(n - 1) (n - (s + 1) S)) / n``, ``S = H(s + n) - H(s)``;
    each row's candidates are sorted once (one vectorised sort), and its positives, padded to one
    width, located by a batched binary search."""
    import torch

    n_rows, m = key.shape
    q, c = np.nonzero(positive)
    n_positive = np.bincount(q, minlength=n_rows)
    slot = np.arange(len(q)) - np.repeat(np.cumsum(n_positive) - n_positive, n_positive)  # place within its row
    padded = np.full((n_rows, max(int(n_positive.max(initial=0)), 1)), np.inf, dtype=np.float32)
    padded[q, slot] = key[q, c]
    ranked = np.where(candidate, key, np.float32(_FLOOR))
    ranked.sort(axis=1)
    values = torch.from_numpy(padded)
    s, n = _above_and_tied(torch.from_numpy(ranked), values, q, slot, m)
    big_r, r = _above_and_tied(torch.sort(values, dim=1).values, values, q, slot, n_positive[q])
    harmonic = np.where(n == 1, 1.0 / (s + 1.0), digamma(s + n + 1.0) - digamma(s + 1.0))  # exact without a tie
    share = np.divide(r - 1, n - 1, out=np.zeros(len(n)), where=n > 1)
    term = ((big_r + 1) * harmonic + share * (n - (s + 1) * harmonic)) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(q, weights=term, minlength=n_rows) / n_positive


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
    per query with copairs' columns (NaN AP without positives). Queries go in blocks of about
    :data:`BLOCK_ELEMENTS` similarities (each block sized by the previous one's candidates), so
    memory stays ``block x N``. Zero-norm profiles must be left out first (their cosine similarity is
    undefined)."""
    import torch  # here, not at import: the explorer reads these modules without torch

    x = torch.from_numpy(unit_rows(features).astype(np.float32))
    queries = np.arange(len(x)) if queries is None else np.asarray(queries)
    n = len(queries)
    ap, n_pos, n_total = np.full(n, np.nan), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    start, block = 0, max(1, BLOCK_ELEMENTS // max(len(x), 1))
    while start < n:
        part = np.arange(start, min(start + block, n))
        columns, pos, neg = candidates(part)
        candidate = pos | neg
        every = len(columns) == len(x) and np.array_equal(columns, np.arange(len(x)))  # no copy of x
        key = tie_key((x[queries[part]] @ (x if every else x[columns]).T).numpy())
        n_pos[part], n_total[part] = pos.sum(axis=1), candidate.sum(axis=1)
        ap[part] = expected_average_precision(key, pos, candidate)
        start, block = start + len(part), max(1, BLOCK_ELEMENTS // max(len(columns), 1))  # sized by this block's candidates
    ap[n_pos == 0] = np.nan
    return pd.DataFrame(
        {
            "n_pos_pairs": n_pos,
            "n_total_pairs": n_total,
            "average_precision": ap,
            "normalized_average_precision": _normalised(ap, n_pos, n_total - n_pos),
        }
    )
