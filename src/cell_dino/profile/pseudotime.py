"""Diffusion pseudotime (Haghverdi et al. 2016) through scanpy: a Gaussian kNN kernel with
per-cell widths (``sc.pp.neighbors(method="gauss")``), the diffusion map (``sc.tl.diffmap``) and
DPT from a root cell (``sc.tl.dpt``). Cells outside the root's connected component of the kNN
graph have no pseudotime (scanpy's inf: no diffusion reaches them)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cell_dino.core.undefined import Undefined, require
from cell_dino.integrate.reduce import standardised_pcs
from cell_dino.integrate.table import feature_matrix, metadata_columns, require_columns, seeded_subset

log = logging.getLogger(__name__)

TRIVIAL = 1e-6  # eigenvalues this close to 1 are stationary states (one per connected component)


@dataclass(frozen=True)
class Pseudotime:
    """DPT of every cell in [0, 1] (inf where the root cannot be reached), the root cell, and the
    informative diffusion components (eigenvalues in [0, 1)), cells x components."""

    time: np.ndarray
    root: int
    components: np.ndarray
    eigenvalues: np.ndarray


def diffusion_pseudotime(x: np.ndarray, in_root: np.ndarray, n_neighbors: int = 15, n_components: int = 10, seed: int = 0) -> Pseudotime:
    """scanpy's DPT of the rows of ``x`` (cells x dimensions) on a kNN graph of ``n_neighbors``
    other cells and ``n_components`` diffusion components, from the root group's most typical cell
    (``in_root``: the one nearest the group's mean in DPT coordinates, within the component holding
    most of the group), so that it measures the distance from the root state rather than from one
    of its outliers. Raises :class:`~cell_dino.core.undefined.Undefined` with too few cells, an empty
    root group, or a diffusion map that does not converge."""
    import anndata
    import scanpy as sc
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import ArpackError

    n = len(x)
    require(n > max(n_components + 1, n_neighbors), f"pseudotime needs more than {max(n_components + 1, n_neighbors)} cells, got {n}")
    require(bool(in_root.any()), "pseudotime: the root group has no cells")
    cells = anndata.AnnData(np.asarray(x, dtype=np.float32))
    sc.pp.neighbors(cells, n_neighbors=n_neighbors + 1, use_rep="X", method="gauss", knn=True, random_state=seed)  # scanpy counts the cell
    try:
        sc.tl.diffmap(cells, n_comps=n_components, random_state=seed)
    except ArpackError as error:
        raise Undefined(f"the diffusion map of {n} cells did not converge ({error})") from error
    values, vectors = np.clip(cells.uns["diffmap_evals"], -1, 1), cells.obsm["X_diffmap"]
    informative = (values >= 0) & (values < 1 - TRIVIAL)
    require(bool(informative.any()), f"pseudotime: the diffusion map of {n} cells has no component with an eigenvalue in [0, 1)")
    coordinates = vectors[:, informative] * (values[informative] / (1 - values[informative]))
    parts = connected_components(cells.obsp["connectivities"], directed=False)[1]
    candidates = np.flatnonzero(in_root & (parts == np.bincount(parts[in_root]).argmax()))
    root = int(candidates[np.argmin(np.linalg.norm(coordinates[candidates] - coordinates[candidates].mean(axis=0), axis=1))])
    cells.uns["iroot"] = root
    sc.tl.dpt(cells, n_dcs=n_components)
    return Pseudotime(cells.obs["dpt_pseudotime"].to_numpy(dtype=np.float64), root, vectors[:, informative], values)


def pseudotime_table(
    items: pd.DataFrame,
    column: str,
    root: str,
    trajectory: list[str],
    n_pcs: int,
    n_neighbors: int,
    n_components: int,
    max_cells: int,
    seed: int = 0,
) -> pd.DataFrame:
    """Diffusion pseudotime of the items of the ``root`` group (where it starts) and the
    ``trajectory`` groups of ``column`` (all items when empty), a seeded sample of at most
    ``max_cells``, on the PCs of their standardised features: their metadata, ``pseudotime`` (NaN
    where no diffusion reaches), ``is_root`` and the diffusion components ``dc_1...``. Raises
    :class:`~cell_dino.core.undefined.Undefined` with too few items, none in the root group, or
    features identical in every item."""
    require_columns(items, [column], "pseudotime column")
    values = items[column].astype(str)
    keep = values.isin([root, *trajectory]) if trajectory else values.notna()
    items = seeded_subset(items.loc[keep].reset_index(drop=True), max_cells, seed)
    in_root = (items[column].astype(str) == root).to_numpy()
    needed = max(n_neighbors, n_components + 1) + 1
    require(
        len(items) >= needed and in_root.any(),
        f"pseudotime needs {needed} items with some in {column} = {root!r}; have {len(items)}, {int(in_root.sum())} in the root",
    )
    x = feature_matrix(items)
    require(
        bool((np.ptp(x, axis=0) > 0).any()),
        f"pseudotime: the {len(items)} items' features do not vary (every item identical); no ordering exists",
    )
    dpt = diffusion_pseudotime(standardised_pcs(x, n_pcs, seed), in_root, n_neighbors, n_components, seed)
    time, start = dpt.time, dpt.root
    reachable = np.isfinite(time)
    if not reachable.all():
        log.warning(
            "pseudotime: %d of %d items lie outside the root's part of the kNN graph (no pseudotime)", (~reachable).sum(), len(time)
        )
    components = dpt.components
    table = items[metadata_columns(items)].assign(pseudotime=np.where(reachable, time, np.nan), is_root=np.arange(len(items)) == start)
    return pd.concat([table, pd.DataFrame(components, columns=[f"dc_{i + 1}" for i in range(components.shape[1])])], axis=1)
