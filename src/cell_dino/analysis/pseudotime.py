"""Diffusion pseudotime (Haghverdi et al. 2016), as scanpy computes it: a Gaussian kNN kernel
with per-cell widths, density normalisation, the symmetric transition matrix's top eigenvectors,
and DPT distances from a root cell on the diffusion components scaled by lambda / (1 - lambda)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh
from sklearn.neighbors import NearestNeighbors


@dataclass(frozen=True)
class Diffusion:
    eigenvalues: np.ndarray  # descending; the first is the stationary 1
    eigenvectors: np.ndarray  # cells x components, of the symmetric transition matrix

    def components(self) -> np.ndarray:
        """Diffusion components (the non-trivial eigenvectors), cells x (n - 1)."""
        return self.eigenvectors[:, 1:]

    def dpt_coordinates(self) -> np.ndarray:
        """Coordinates whose Euclidean distances are the DPT distances."""
        values = self.eigenvalues[1:]
        return self.eigenvectors[:, 1:] * (values / (1.0 - values))


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
    if n <= n_components + 1 or n <= n_neighbors:
        raise ValueError(f"pseudotime needs more than {max(n_components + 1, n_neighbors)} cells, got {n}")
    kernel = gaussian_knn_kernel(np.asarray(x, dtype=np.float64), n_neighbors)
    n_parts, _ = connected_components(kernel, directed=False)
    if n_parts > 1:
        raise ValueError(f"the kNN graph has {n_parts} disconnected parts: raise n_neighbors")
    density = np.asarray(kernel.sum(axis=0)).ravel()
    scaled = sparse.diags(1 / density) @ kernel @ sparse.diags(1 / density)
    z = np.sqrt(np.asarray(scaled.sum(axis=0)).ravel())
    symmetric = sparse.diags(1 / z) @ scaled @ sparse.diags(1 / z)
    values, vectors = eigsh(symmetric, k=n_components, which="LA", v0=np.ones(n) / np.sqrt(n))
    order = np.argsort(-values)
    values, vectors = values[order], vectors[:, order]
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])  # deterministic signs
    return Diffusion(np.clip(values, -1, 1 - 1e-9), vectors * signs)


def root_cell(diffusion: Diffusion, in_root: np.ndarray) -> int:
    """The root group's cell at its far end of the first diffusion component."""
    if not in_root.any():
        raise ValueError("pseudotime: the root group has no cells")
    first = diffusion.components()[:, 0]
    side = np.sign(first[in_root].mean() - first.mean()) or 1.0
    candidates = np.flatnonzero(in_root)
    return int(candidates[np.argmax(side * first[candidates])])


def pseudotime(diffusion: Diffusion, root: int) -> np.ndarray:
    """DPT distance of every cell from ``root``, scaled to [0, 1]."""
    coordinates = diffusion.dpt_coordinates()
    distance = np.linalg.norm(coordinates - coordinates[root], axis=1)
    return distance / distance.max() if distance.max() > 0 else distance
