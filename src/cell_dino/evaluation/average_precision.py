"""Average precision of every query against its positive and negative profiles, computed in
blocks of queries so memory stays ``block x N`` (copairs enumerates every pair first, which at
100k profiles no longer fits in memory). The per-query table has copairs' columns, so copairs'
``mean_average_precision`` gives the mAP and its permutation p-values either way."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from copairs.map.normalization import normalize_ap

from cell_dino.evaluation.moa_matching import unit_rows

Mask = Callable[[slice], np.ndarray]  # rows -> rows x N boolean mask


def blocked_average_precision(features: np.ndarray, positive: Mask, negative: Mask, block: int = 512) -> pd.DataFrame:
    """Cosine-similarity AP per query: mean over its positives of the precision at their rank
    among positives and negatives (``n_pos_pairs``, ``n_total_pairs``, ``average_precision``,
    ``normalized_average_precision``; NaN without positives)."""
    x = unit_rows(features).astype(np.float32)
    n = len(x)
    ap, n_pos, n_total = np.full(n, np.nan), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for start in range(0, n, block):
        rows = slice(start, min(start + block, n))
        pos, neg = positive(rows), negative(rows)
        candidate = pos | neg
        columns = np.flatnonzero(candidate.any(axis=0))  # only profiles some query of the block ranks
        pos, candidate = pos[:, columns], candidate[:, columns]
        similarity = np.where(candidate, x[rows] @ x[columns].T, -np.inf)
        order = np.argsort(-similarity, axis=1, kind="stable")
        hits = np.take_along_axis(pos, order, axis=1)
        rank = np.arange(1, len(columns) + 1)
        precision_at_hits = np.where(hits, np.cumsum(hits, axis=1) / rank, 0.0)
        n_pos[rows], n_total[rows] = pos.sum(axis=1), candidate.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            ap[rows] = precision_at_hits.sum(axis=1) / n_pos[rows]
    ap[n_pos == 0] = np.nan
    normalised = np.full(n, np.nan)
    valid = n_pos > 0
    normalised[valid] = normalize_ap(ap[valid], n_pos[valid], n_total[valid] - n_pos[valid])
    return pd.DataFrame({"n_pos_pairs": n_pos, "n_total_pairs": n_total, "average_precision": ap, "normalized_average_precision": normalised})
