"""Discriminative patch tokens between two groups of cells: tokens (PCA-reduced) whose k nearest
neighbours among the other cells' tokens all come from their own group, mapped back to image
positions, where the segmentation masks tell how much of each falls in the nucleus, the cytoplasm
or the background."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy import sparse
from sklearn.decomposition import PCA

from cell_dino.core.undefined import require
from cell_dino.evaluate.neighbours import row_top_k
from cell_dino.integrate.table import require_columns, unit_rows

REGIONS = ("nucleus", "cytoplasm", "background")
BLOCK_ELEMENTS = 2**24  # similarities held at once (64 MiB of float32)


def patch_region_fractions(masks: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Share of each patch's pixels in the nucleus, the cytoplasm and the background
    (n x h x w x 3); ``masks`` n x 2 x H x W (nucleus, cell), any size (the grid is spread over
    it as the model's resize did)."""
    n, _, height, width = masks.shape
    h, w = grid
    nucleus = masks[:, 0].astype(bool)
    pixel_region = np.where(nucleus, 0, np.where(masks[:, 1].astype(bool), 1, 2)).reshape(n, -1)
    patch_of_pixel = ((np.arange(height) * h // height)[:, None] * w + (np.arange(width) * w // width)[None, :]).ravel()
    pooling = sparse.csr_matrix(
        (np.ones(patch_of_pixel.size), (np.arange(patch_of_pixel.size), patch_of_pixel)), shape=(patch_of_pixel.size, h * w)
    )
    counts = np.stack([np.asarray((pixel_region == r).astype(np.float64) @ pooling) for r in range(3)], axis=-1)
    return (counts / counts.sum(axis=-1, keepdims=True)).reshape(n, h, w, 3)


def balanced_items(groups: np.ndarray, seed: int = 0, most: int | None = None) -> np.ndarray:
    """Indices of an equal number of items from each group (the smallest group's size, at most
    ``most``, seeded): with unequal groups, "all k neighbours from my group" would favour the larger one."""
    rng = np.random.default_rng(seed)
    values, counts = np.unique(groups, return_counts=True)
    size = counts.min() if most is None else min(counts.min(), most)
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(groups == v), size, replace=False) for v in values]))


def discriminative_tokens(tokens: np.ndarray, groups: np.ndarray, k: int = 10, n_components: int = 32, seed: int = 0) -> np.ndarray:
    """Boolean n x h x w: tokens whose ``k`` nearest neighbours (cosine, after PCA), searched
    among the tokens of *other* cells, all belong to the token's own group."""
    n, h, w, d = tokens.shape
    if len(groups) != n:
        raise ValueError(f"{len(groups)} group labels for {n} items")
    if len(np.unique(groups)) != 2:
        raise ValueError(f"discriminative tokens compare two groups, got {np.unique(groups).tolist()}")
    flat = tokens.reshape(n * h * w, d).astype(np.float32)
    reduced = unit_rows(PCA(n_components=min(n_components, d, len(flat) - 1), random_state=seed).fit_transform(flat))
    owner = np.repeat(np.arange(n), h * w)
    token_group = np.asarray(groups)[owner]
    require(k <= (n - 1) * h * w, f"k = {k} exceeds the {(n - 1) * h * w} tokens of other cells")
    neighbours = other_item_neighbours(torch.from_numpy(np.ascontiguousarray(reduced, dtype=np.float32)), h * w, k)
    keep = (token_group[neighbours] == token_group[:, None]).all(axis=1)
    return keep.reshape(n, h, w)


def other_item_neighbours(unit: torch.Tensor, per_item: int, k: int) -> np.ndarray:
    """``N x k`` indices of each row's ``k`` most cosine-similar rows of ``unit`` (``N x d``, unit
    rows; item ``i`` owns rows ``i * per_item`` to ``(i + 1) * per_item - 1``) among the rows of
    *other* items. Exact, in blocks of rows against all: the own item's columns are set to -inf,
    and the top ``k`` are taken through the maxima of each item's columns
    (:func:`~cell_dino.evaluate.neighbours.row_top_k`)."""
    rows = max(1, BLOCK_ELEMENTS // len(unit))
    found = []
    for start in range(0, len(unit), rows):
        similarity = unit[start : start + rows] @ unit.T
        for item in range(start // per_item, (start + len(similarity) - 1) // per_item + 1):
            own = slice(max(item * per_item - start, 0), (item + 1) * per_item - start)
            similarity[own, item * per_item : (item + 1) * per_item] = -torch.inf
        found.append(row_top_k(similarity, k, per_item)[1])
    return torch.cat(found).numpy()


def region_shares(selected: np.ndarray, fractions: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """Per group: how many tokens were selected and the share of their pixels in each region,
    beside the share of all the group's token pixels in each region (the baseline)."""
    rows = []
    for group in np.unique(groups):
        in_group = np.asarray(groups) == group
        chosen, everything = fractions[in_group][selected[in_group]], fractions[in_group].reshape(-1, 3)
        row = {"group": group, "n_selected": int(len(chosen)), "n_tokens": int(len(everything))}
        for r, name in enumerate(REGIONS):
            row[f"share_{name}"] = float(chosen[:, r].mean()) if len(chosen) else float("nan")
            row[f"baseline_{name}"] = float(everything[:, r].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def token_table(selected: np.ndarray, fractions: np.ndarray, groups: np.ndarray, items: pd.DataFrame) -> pd.DataFrame:
    """One row per selected token: the item's metadata, its grid position, group, the shares of
    its pixels in each region and the region holding most of them."""
    item, row, col = np.nonzero(selected)
    meta = items.iloc[item].reset_index(drop=True)
    shares = fractions[item, row, col]
    return meta.assign(
        token_row=row,
        token_col=col,
        group=np.asarray(groups)[item],
        region=np.array(REGIONS)[shares.argmax(axis=1)],
        **{f"share_{name}": shares[:, r] for r, name in enumerate(REGIONS)},
    )


def reference_vs_rest(
    items: pd.DataFrame,
    tokens: np.ndarray,
    masks: np.ndarray,
    column: str,
    reference: str,
    other: str | None,
    k: int,
    n_components: int,
    max_tokens: int,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Discriminative tokens of the ``reference`` group of ``column`` against ``other`` (or every
    other item), on equal numbers of items of each (seeded; at most ``max_tokens`` tokens per group,
    whole items, and never fewer than 2 items: every token is compared with every other, so time
    grows with the square of the tokens): the token table, the region shares, and the number of
    items per group. Raises :class:`~cell_dino.core.undefined.Undefined` with fewer than 2 items in
    either group."""
    require_columns(items, [column], "discriminative tokens column")
    labelled = items[column].notna().to_numpy()  # an item without a value (an HPA multi-label image) is in neither group
    values = items[column].astype("string").fillna("").to_numpy(dtype=str)
    other_name = other or f"not {reference}"
    in_other = labelled & (values == other if other is not None else values != reference)
    groups = np.where(values == reference, reference, np.where(in_other, other_name, ""))
    counts = {g: int((groups == g).sum()) for g in (reference, other_name)}
    require(min(counts.values()) >= 2, f"the attention sample has {counts} items (2 of each needed)")
    most = max(2, max_tokens // (tokens.shape[1] * tokens.shape[2]))
    keep = np.flatnonzero(groups != "")[balanced_items(groups[groups != ""], seed, most)]
    tokens, groups = tokens[keep], groups[keep]
    selected = discriminative_tokens(tokens, groups, k, n_components, seed)
    fractions = patch_region_fractions(masks[keep], tokens.shape[1:3])
    table = token_table(selected, fractions, groups, items.iloc[keep].reset_index(drop=True))
    return table, region_shares(selected, fractions, groups), len(keep) // 2
