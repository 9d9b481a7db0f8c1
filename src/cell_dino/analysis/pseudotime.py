"""Diffusion pseudotime (Haghverdi et al. 2016), as scanpy computes it: a Gaussian kNN kernel
with per-cell widths, density normalisation, the symmetric transition matrix's top eigenvectors,
and DPT distances from a root cell on the diffusion components scaled by lambda / (1 - lambda).
As in scanpy, only eigenvalues in [0, 1) enter the distance, and cells outside the root's connected
component of the kNN graph have no pseudotime (inf: no diffusion reaches them)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import ArpackError, eigsh
from sklearn.neighbors import NearestNeighbors

from cell_dino.profiling.reduce import standardised_pcs
from cell_dino.profiling.table import feature_matrix, metadata_columns, require_columns, seeded_subset
from cell_dino.undefined import Undefined, require

log = logging.getLogger(__name__)

TRIVIAL = 1e-6  # eigenvalues this close to 1 are stationary states (one per connected component)


@dataclass(frozen=True)
class Diffusion:
    eigenvalues: np.ndarray  # descending; 1 once per connected component
    eigenvectors: np.ndarray  # cells x components, of the symmetric transition matrix
    parts: np.ndarray  # connected component of each cell in the kNN graph

    @property
    def informative(self) -> np.ndarray:
        """The eigenpairs DPT uses: eigenvalues in [0, 1)."""
        return (self.eigenvalues >= 0) & (self.eigenvalues < 1 - TRIVIAL)

    def components(self) -> np.ndarray:
        """Diffusion components (eigenvectors of the informative eigenvalues), for plotting."""
        return self.eigenvectors[:, self.informative]

    def dpt_coordinates(self) -> np.ndarray:
        """Coordinates whose Euclidean distances are the DPT distances (within a component)."""
        values = self.eigenvalues[self.informative]
        return self.components() * (values / (1.0 - values))


def gaussian_knn_kernel(x: np.ndarray, n_neighbors: int) -> sparse.csr_matrix:
    """Symmetric Gaussian kernel on the kNN graph, widths = each cell's median kNN distance
    (the kernel of Haghverdi et al. 2016, scanpy's ``method='gauss'``)."""
    distances, indices = NearestNeighbors(n_neighbors=n_neighbors + 1).fit(x).kneighbors(x)
    distances, indices = distances[:, 1:], indices[:, 1:]
    sigma_sq = np.median(distances**2, axis=1)
    positive = sigma_sq[sigma_sq > 0]
    sigma_sq = np.maximum(sigma_sq, positive.min() if positive.size else 1.0)  # cells whose neighbours are identical: the narrowest width
    sigma = np.sqrt(sigma_sq)
    rows = np.repeat(np.arange(len(x)), n_neighbors)
    cols = indices.ravel()
    denominator = sigma_sq[rows] + sigma_sq[cols]
    values = np.sqrt(2 * sigma[rows] * sigma[cols] / denominator) * np.exp(-(distances.ravel() ** 2) / denominator)
    kernel = sparse.csr_matrix((values, (rows, cols)), shape=(len(x), len(x)))
    return kernel.maximum(kernel.T).tocsr()


def diffusion_map(x: np.ndarray, n_neighbors: int = 15, n_components: int = 10) -> Diffusion:
    """Top ``n_components`` eigenpairs of the density-normalised symmetric transition matrix."""
    n = len(x)
    require(n > max(n_components + 1, n_neighbors), f"pseudotime needs more than {max(n_components + 1, n_neighbors)} cells, got {n}")
    kernel = gaussian_knn_kernel(np.asarray(x, dtype=np.float64), n_neighbors)
    _, parts = connected_components(kernel, directed=False)
    density = np.asarray(kernel.sum(axis=0)).ravel()
    scaled = sparse.diags(1 / density) @ kernel @ sparse.diags(1 / density)
    z = np.sqrt(np.asarray(scaled.sum(axis=0)).ravel())
    symmetric = sparse.diags(1 / z) @ scaled @ sparse.diags(1 / z)
    try:
        values, vectors = eigsh(symmetric, k=n_components, which="LA", v0=np.ones(n) / np.sqrt(n))
    except ArpackError as error:
        raise Undefined(f"the diffusion map of {n} cells did not converge ({error})") from error
    order = np.argsort(-values)
    values, vectors = values[order], vectors[:, order]
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])  # deterministic signs
    return Diffusion(np.clip(values, -1, 1), vectors * signs, parts)


def root_cell(diffusion: Diffusion, in_root: np.ndarray) -> int:
    """The root group's most typical cell: the one nearest the group's mean in DPT coordinates
    (within the component holding most of the group), so that pseudotime measures the distance
    from the root state rather than from one of its outliers."""
    require(bool(in_root.any()), "pseudotime: the root group has no cells")
    main = np.bincount(diffusion.parts[in_root]).argmax()
    candidates = np.flatnonzero(in_root & (diffusion.parts == main))
    coordinates = diffusion.dpt_coordinates()[candidates]
    return int(candidates[np.argmin(np.linalg.norm(coordinates - coordinates.mean(axis=0), axis=1))])


def pseudotime(diffusion: Diffusion, root: int) -> np.ndarray:
    """DPT distance of every cell from ``root``, scaled to [0, 1]; inf outside the root's component."""
    coordinates = diffusion.dpt_coordinates()
    distance = np.linalg.norm(coordinates - coordinates[root], axis=1)
    distance[diffusion.parts != diffusion.parts[root]] = np.inf
    reachable = np.isfinite(distance)
    top = distance[reachable].max()
    return np.where(reachable, distance / top, np.inf) if top > 0 else distance


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
    :class:`~cell_dino.undefined.Undefined` with too few items, none in the root group, or
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
    diffusion = diffusion_map(standardised_pcs(x, n_pcs, seed), n_neighbors, n_components)
    start = root_cell(diffusion, in_root)
    time = pseudotime(diffusion, start)
    reachable = np.isfinite(time)
    if not reachable.all():
        log.warning(
            "pseudotime: %d of %d items lie outside the root's part of the kNN graph (no pseudotime)", (~reachable).sum(), len(time)
        )
    components = diffusion.components()
    table = items[metadata_columns(items)].assign(pseudotime=np.where(reachable, time, np.nan), is_root=np.arange(len(items)) == start)
    return pd.concat([table, pd.DataFrame(components, columns=[f"dc_{i + 1}" for i in range(components.shape[1])])], axis=1)
