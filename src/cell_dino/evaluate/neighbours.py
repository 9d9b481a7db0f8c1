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

from cell_dino.integrate.table import ZERO_NORM, row_norms, unit_rows

if TYPE_CHECKING:
    import torch

    from cell_dino.core.runtime import Precision

TIE_DECIMALS = 6
# Largest gap between a bf16 screen similarity and the float32 one, for unit rows: bf16 keeps 8
# significant bits, so each input rounds by at most 2^-8 (relative), which moves a product sum by at most
# (2^-7 + 2^-16) sum|x_i y_i| <= 2^-7 + 2^-16 (Cauchy-Schwarz); the bf16 result adds 2^-8, float32
# accumulation over d terms d 2^-24 (< 2^-10 for d < SCREEN_MAX_FEATURES): 0.0127 < 2^-6. Wider
# profiles are not screened.
SCREEN_ERROR, SCREEN_MAX_FEATURES = 2.0**-6, 2**14
BLOCK_ELEMENTS = 2**27  # similarities held at once by nearest (block rows x N): 256 MiB in bf16
PRODUCT_COLUMNS = 8192
__all__ = ["SCREEN_ERROR", "TIE_DECIMALS", "Allowed", "Neighbours", "nearest", "tie_key", "unit_rows", "zero_norm"]

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


def row_top_k(similarity: torch.Tensor, k: int, group: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` largest values of each row of ``similarity`` and their columns. A row's top ``k``
    lie in the ``k`` groups of ``group`` columns with the largest maxima, so only those groups are
    ranked: a max over the row costs a third of ``torch.topk`` over it. The column count must be a
    multiple of ``group``."""
    import torch

    rows, m = similarity.shape
    if m <= k * group:
        return torch.topk(similarity, k, dim=1)
    maxima = similarity.view(rows, m // group, group).amax(dim=2)
    groups = torch.topk(maxima, k, dim=1).indices
    columns = (groups[:, :, None] * group + torch.arange(group)).view(rows, k * group)
    values, chosen = torch.topk(torch.gather(similarity, 1, columns), k, dim=1)
    return values, torch.gather(columns, 1, chosen)


def nearest(
    normed: np.ndarray,
    allowed: dict[str, Allowed],
    labels: np.ndarray,
    block: int | None = None,
    k: int = 16,
    precision: Precision = "auto",
    group: int = 128,
) -> dict[str, Neighbours]:
    """Most cosine-similar profile of each row among those each ``allowed`` rule permits, for
    every rule from one pass over the similarities; ``normed`` has unit rows.

    Blocked top-k: for ``block`` rows at a time (default: :data:`BLOCK_ELEMENTS` similarities)
    the similarities to every profile give each row its ``k`` most similar profiles (selected
    through maxima of ``group`` columns), and the rules are checked on those only, with their
    similarities recomputed in float32. With ``precision`` bf16 (``auto``: where the CPU computes
    it natively, :func:`cell_dino.core.runtime.native_bf16`; fewer than :data:`SCREEN_MAX_FEATURES`
    features) the block's similarities are a bf16 screen, each within :data:`SCREEN_ERROR` of its
    float32 value: on AMX CPUs its products run 4x faster. A row whose answer is not certain among
    its ``k`` (no allowed candidate, or a profile outside them could reach the best allowed one:
    the ``k``-th plus the screen's error ties with it) is redone in float32 over all ``N``.
    Exact: the same neighbours, ties and agreements as ranking every pair (a similarity within one
    float32 unit of a tie-grid half step may round either way with the shape of the product that
    computed it); memory ``block x N``."""
    import torch

    from cell_dino.core.runtime import resolved_precision

    n = len(normed)
    found = {name: (np.full(n, -1), np.zeros(n, dtype=np.int64), np.full(n, np.nan)) for name in allowed}
    if n == 0:  # no profiles: no neighbours (and no blocks to size)
        return {name: Neighbours(*arrays) for name, arrays in found.items()}
    codes = np.unique(labels.astype(str), return_inverse=True)[1]
    x = torch.from_numpy(np.ascontiguousarray(normed, dtype=np.float32))
    screen_bf16 = resolved_precision(precision, torch.device("cpu")) == "bf16" and normed.shape[1] < SCREEN_MAX_FEATURES
    screen = x.bfloat16() if screen_bf16 else x
    k = max(1, min(k, n))
    width = -(-n // group) * group  # padded with -inf to whole groups
    block = block or max(1, min(n, BLOCK_ELEMENTS // width))
    similarity = torch.full((min(block, n), width), -torch.inf, dtype=screen.dtype)

    def keep(name: str, rows: np.ndarray, key: np.ndarray, columns: np.ndarray, certain_below: np.ndarray | None) -> np.ndarray:
        mask = allowed[name](rows[:, None], columns)
        best, index, n_tied, agreement = _best_allowed(key, columns, mask, codes[columns] == codes[rows, None])
        certain = n_tied > 0 if certain_below is None else (n_tied > 0) & (certain_below < best)
        for array, value in zip(found[name], (index, n_tied, agreement), strict=True):
            array[rows[certain]] = value[certain]
        return rows[~certain]

    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        for first in range(0, n, PRODUCT_COLUMNS):  # in column chunks: about 1.4x faster than one product
            last = min(first + PRODUCT_COLUMNS, n)
            torch.matmul(screen[rows], screen[first:last].T, out=similarity[: len(rows), first:last])
        values, top = row_top_k(similarity[: len(rows)], k, group)
        columns = top.numpy()
        exact = (x[columns] @ x[rows, :, None])[:, :, 0] if screen_bf16 else values
        reach = values[:, -1].float().numpy() + (SCREEN_ERROR if screen_bf16 else 0.0)
        key, certain_below = tie_key(exact.numpy()), None if k == n else tie_key(reach)
        for name in allowed:
            redo = keep(name, rows, key, columns, certain_below)
            if len(redo):  # every profile of these rows; rows with no allowed profile at all stay -1
                keep(name, redo, tie_key((x[redo] @ x.T).numpy()), np.broadcast_to(np.arange(n), (len(redo), n)), None)
    return {name: Neighbours(*arrays) for name, arrays in found.items()}
