"""Average precision of every query against its positive and negative profiles, by cosine
similarity, computed in blocks of queries so memory stays ``block x N``.

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
from copairs.map.normalization import normalize_ap

from cell_dino.evaluation.similarity import TIE_DECIMALS, unit_rows

Mask = Callable[[np.ndarray], np.ndarray]  # positions in the query list -> queries x N boolean mask
BLOCK_ELEMENTS = 2**24  # similarities held at once (queries x candidates)


def expected_average_precision(key: np.ndarray, positive: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Tie-aware AP of each row: ``key`` (rows x N) the rounded similarities, ``positive`` and
    ``candidate`` boolean masks (positives are candidates). NaN for rows without positives.

    Within a tie of ``n`` candidates holding ``r`` positives, after ``R`` positives and ``s``
    candidates, position ``j`` is positive with probability ``r / n`` and then has, in
    expectation, ``R + 1 + (j - s - 1)(r - 1)/(n - 1)`` positives at or above it."""
    rows, n = key.shape
    order = np.argsort(-np.where(candidate, key, -np.inf), axis=1, kind="stable")
    ranked = np.take_along_axis(np.where(candidate, key, np.nan), order, axis=1)
    hits = np.take_along_axis(positive, order, axis=1).astype(np.float64)
    valid = ~np.isnan(ranked)
    starts = np.ones((rows, n), dtype=bool)
    starts[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
    group = np.cumsum(starts, axis=1) - 1 + (np.arange(rows) * n)[:, None]  # a global id per tie
    size = np.bincount(group[valid], minlength=rows * n).astype(np.float64)
    group_hits = np.bincount(group[valid], weights=hits[valid], minlength=rows * n).astype(np.float64)
    position = np.broadcast_to(np.arange(n), (rows, n))
    first = np.zeros(rows * n, dtype=np.int64)
    first[group[starts]] = position[starts]
    before = np.zeros(rows * n)
    before[group[starts]] = (np.cumsum(hits, axis=1) - hits)[starts]
    n_g, r_g, s_g = size[group], group_hits[group], first[group]
    share = np.divide(r_g - 1, n_g - 1, out=np.zeros_like(r_g), where=n_g > 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(valid, r_g / n_g * (before[group] + 1 + (position - s_g) * share) / (position + 1), 0.0)
        return expected.sum(axis=1) / positive.sum(axis=1)


def blocked_average_precision(features: np.ndarray, positive: Mask, negative: Mask, queries: np.ndarray | None = None) -> pd.DataFrame:
    """Cosine-similarity AP of each query (rows of ``features`` at ``queries``, default all)
    against the profiles ``positive`` and ``negative`` mark for it; one row per query with
    copairs' columns (NaN AP without positives). Zero-norm profiles must be left out first
    (their cosine similarity is undefined)."""
    x = unit_rows(features).astype(np.float32)
    queries = np.arange(len(x)) if queries is None else np.asarray(queries)
    n = len(queries)
    ap, n_pos, n_total = np.full(n, np.nan), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    block = max(1, min(512, BLOCK_ELEMENTS // max(len(x), 1)))
    for start in range(0, n, block):
        part = np.arange(start, min(start + block, n))
        pos, neg = positive(part), negative(part)
        candidate = pos | neg
        columns = np.flatnonzero(candidate.any(axis=0))  # only profiles some query of the block ranks
        key = np.round(x[queries[part]] @ x[columns].T, TIE_DECIMALS)
        n_pos[part], n_total[part] = pos.sum(axis=1), candidate.sum(axis=1)
        ap[part] = expected_average_precision(key, pos[:, columns], candidate[:, columns])
    ap[n_pos == 0] = np.nan
    normalised = np.full(n, np.nan)
    valid = n_pos > 0
    normalised[valid] = normalize_ap(ap[valid], n_pos[valid], n_total[valid] - n_pos[valid])
    return pd.DataFrame(
        {"n_pos_pairs": n_pos, "n_total_pairs": n_total, "average_precision": ap, "normalized_average_precision": normalised}
    )
