"""Cosine similarity for retrieval and matching: unit rows, zero-norm profiles (whose cosine
similarity is undefined), and nearest neighbours whose ties are scored in expectation.

Similarities are put on a grid of ``10**-TIE_DECIMALS`` (:func:`tie_key`) before ranking, so that
profiles equal up to float rounding tie; a tie carries no information and is scored by the mean
over its members, as a random tie-break would in expectation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cell_dino.profiling.table import ZERO_NORM, row_norms, unit_rows

if TYPE_CHECKING:
    import torch

TIE_DECIMALS = 6
__all__ = ["TIE_DECIMALS", "Allowed", "Neighbours", "nearest", "tie_key", "unit_rows", "zero_norm"]

# (query rows as a column, candidate positions) -> which candidates each query may match, same shape
Allowed = Callable[[np.ndarray, np.ndarray], np.ndarray]


def zero_norm(x: np.ndarray) -> np.ndarray:
    """Rows with no direction (all features 0): cosine similarity with them is undefined."""
    return row_norms(x) <= ZERO_NORM


def tie_key(similarity: np.ndarray) -> np.ndarray:
    """Similarities in units of ``10**-TIE_DECIMALS``, rounded to whole units (float32 holds them
    exactly): equal keys tie. ``np.round(x, 6)`` gives the same grid at a tenth of the speed."""
    return np.rint(similarity * np.float32(10.0**TIE_DECIMALS))


@dataclass(frozen=True)
class Neighbours:
    """Per query: the most similar allowed profile (the lowest position among tied ones; -1 where
    none is allowed), how many tie with it, and the share of the tied profiles whose label is the
    query's (the expected accuracy of a random tie-break)."""

    index: np.ndarray
    n_tied: np.ndarray
    agreement: np.ndarray


def _best_allowed(key: np.ndarray, columns: np.ndarray, mask: np.ndarray, same_label: np.ndarray) -> tuple[np.ndarray, ...]:
    """Best allowed key per row of candidates ``columns`` (rows x m), its lowest position, the
    number tied with it and their share with the query's label."""
    allowed_key = np.where(mask, key, -np.inf)
    best = allowed_key.max(axis=1)
    tied = mask & (key == best[:, None])
    n_tied = tied.sum(axis=1)
    index = np.where(n_tied > 0, np.where(tied, columns, np.iinfo(np.int64).max).min(axis=1), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(n_tied > 0, (tied & same_label).sum(axis=1) / n_tied, np.nan)
    return best, index, n_tied, agreement


def _merge_top_k(values: torch.Tensor, index: torch.Tensor, rows: slice, similarity: torch.Tensor, first_column: int) -> None:
    """Fold the top-k of ``similarity`` (``rows`` x columns from ``first_column``) into the
    running top-k ``values`` and ``index`` of those rows."""
    import torch

    k = values.shape[1]
    block_values, block_columns = torch.topk(similarity, min(k, similarity.shape[1]), dim=1)
    merged_values = torch.cat([values[rows], block_values], dim=1)
    merged_index = torch.cat([index[rows], block_columns + first_column], dim=1)
    values[rows], chosen = torch.topk(merged_values, k, dim=1)
    index[rows] = torch.gather(merged_index, 1, chosen)


def _top_k(x: torch.Tensor, k: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` most similar rows of ``x x^T`` (values descending, positions), from the
    blocks on and above the diagonal only: the similarity is symmetric, so a block gives its rows
    and its columns their candidates, and half of the products are never computed."""
    import torch  # here, not at import: the explorer reads this module without torch

    n = len(x)
    values, index = torch.full((n, k), -torch.inf), torch.full((n, k), -1, dtype=torch.long)
    starts = range(0, n, block)
    for i, row_start in enumerate(starts):
        rows = slice(row_start, min(row_start + block, n))
        for column_start in starts[i:]:
            columns = slice(column_start, min(column_start + block, n))
            similarity = x[rows] @ x[columns].T
            _merge_top_k(values, index, rows, similarity, column_start)
            if column_start != row_start:
                _merge_top_k(values, index, columns, similarity.T, row_start)
    return values.numpy(), index.numpy()


def nearest(normed: np.ndarray, allowed: dict[str, Allowed], labels: np.ndarray, block: int = 2048, k: int = 16) -> dict[str, Neighbours]:
    """Most cosine-similar profile of each row among those each ``allowed`` rule permits, for
    every rule from one pass over the similarities; ``normed`` has unit rows.

    Blocked top-k: ``block x block`` tiles of the similarities (float32, on and above the
    diagonal) give each row its ``k`` most similar profiles, and the rules are checked on those
    only. A row whose answer is not certain among them (no allowed candidate, or the ``k``-th ties
    with the best allowed one) is redone over all ``N``. Exact: the same neighbours, ties and
    agreements as ranking every pair (a similarity within one float32 unit of a tie-grid half step
    may round either way with the shape of the product that computed it); memory ``block x N``."""
    import torch

    n = len(normed)
    codes = np.unique(labels.astype(str), return_inverse=True)[1]
    x = torch.from_numpy(np.ascontiguousarray(normed, dtype=np.float32))
    k = max(1, min(k, n))
    top_values, top_columns = _top_k(x, k, block)
    found = {name: (np.full(n, -1), np.zeros(n, dtype=np.int64), np.full(n, np.nan)) for name in allowed}

    def keep(name: str, rows: np.ndarray, key: np.ndarray, columns: np.ndarray, certain_below: np.ndarray | None) -> np.ndarray:
        mask = allowed[name](rows[:, None], columns)
        best, index, n_tied, agreement = _best_allowed(key, columns, mask, codes[columns] == codes[rows, None])
        certain = n_tied > 0 if certain_below is None else (n_tied > 0) & (certain_below < best)
        for array, value in zip(found[name], (index, n_tied, agreement), strict=True):
            array[rows[certain]] = value[certain]
        return rows[~certain]

    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        key, columns = tie_key(top_values[rows]), top_columns[rows]
        for name in allowed:
            redo = keep(name, rows, key, columns, None if k == n else key[:, -1])
            if len(redo):  # every profile of these rows; rows with no allowed profile at all stay -1
                keep(name, redo, tie_key((x[redo] @ x.T).numpy()), np.broadcast_to(np.arange(n), (len(redo), n)), None)
    return {name: Neighbours(*arrays) for name, arrays in found.items()}
