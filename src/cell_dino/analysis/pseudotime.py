"""Diffusion pseudotime (Haghverdi et al. 2016), as scanpy computes it: a Gaussian kNN kernel
with per-cell widths, density normalisation, the symmetric transition matrix's top eigenvectors,
and DPT distances from a root cell on the diffusion components scaled by lambda / (1 - lambda).
As in scanpy, only eigenvalues in [0, 1) enter the distance, and cells outside the root's connected
component of the kNN graph have no pseudotime (inf: no diffusion reaches them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh
from sklearn.neighbors import NearestNeighbors

from cell_dino.undefined import require

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
    values, vectors = eigsh(symmetric, k=n_components, which="LA", v0=np.ones(n) / np.sqrt(n))
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
