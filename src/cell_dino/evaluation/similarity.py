"""Cosine similarity for retrieval and matching: unit rows, zero-norm profiles (whose cosine
similarity is undefined), and nearest neighbours whose ties are scored in expectation.

Similarities are rounded to ``TIE_DECIMALS`` before ranking, so that profiles equal up to float
rounding tie; a tie carries no information and is scored by the mean over its members, as a
random tie-break would in expectation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cell_dino.profiling.table import ZERO_NORM, unit_rows

TIE_DECIMALS = 6
__all__ = ["TIE_DECIMALS", "Neighbours", "nearest", "unit_rows", "zero_norm"]


def zero_norm(x: np.ndarray) -> np.ndarray:
    """Rows with no direction (all features 0): cosine similarity with them is undefined."""
    return np.linalg.norm(x, axis=1) <= ZERO_NORM


@dataclass(frozen=True)
class Neighbours:
    """Per query: the first most similar allowed profile (-1 where none is allowed), how many tie
    with it, and the share of the tied profiles whose label is the query's (the expected accuracy
    of a random tie-break)."""

    index: np.ndarray
    n_tied: np.ndarray
    agreement: np.ndarray


def nearest(normed: np.ndarray, allowed: Callable[[slice], np.ndarray], labels: np.ndarray, block: int = 512) -> Neighbours:
    """Most cosine-similar profile of each row among those ``allowed(rows)`` permits, in blocks of
    rows so memory stays ``block x N``; ``normed`` has unit rows."""
    n = len(normed)
    index, n_tied, agreement = np.full(n, -1), np.zeros(n, dtype=np.int64), np.full(n, np.nan)
    for start in range(0, n, block):
        rows = slice(start, min(start + block, n))
        mask = allowed(rows)
        key = np.where(mask, np.round(normed[rows] @ normed.T, TIE_DECIMALS), -np.inf)
        best = key.max(axis=1, keepdims=True)
        tied = mask & (key == best)
        has = mask.any(axis=1)
        index[rows] = np.where(has, key.argmax(axis=1), -1)
        n_tied[rows] = tied.sum(axis=1)
        same = (labels[rows, None] == labels[None, :]) & tied
        with np.errstate(invalid="ignore", divide="ignore"):
            agreement[rows] = np.where(has, same.sum(axis=1) / n_tied[rows], np.nan)
    return Neighbours(index, n_tied, agreement)
