"""Classical nuclei and cell segmentation (scikit-image), in the manner of CellProfiler's
IdentifyPrimaryObjects (threshold, fill, declump by a seeded watershed, size filter) and
IdentifySecondaryObjects (watershed from the nuclei over a foreground mask).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import ndimage
from skimage import filters, measure, morphology, segmentation
from skimage.feature import peak_local_max

from cell_dino.core.config import Count, NonNegative, NonNegativeInt, Positive, ordered_pair, settings

Threshold = Literal["otsu", "local"]


@settings
class NucleiConfig:
    """Primary objects on the DNA channel."""

    threshold: Threshold = "otsu"
    threshold_scale: Positive = 1.0  # CellProfiler's threshold correction factor
    local_block_size: Count = 51  # odd, pixels (threshold: local)
    smoothing_sigma: NonNegative = 1.0
    declump: Literal["distance", "h_maxima", "none"] = "distance"
    min_distance: Count = 5  # between seeds of touching nuclei (declump: distance)
    h: Positive = 1.5  # distance-map prominence of a seed (declump: h_maxima)
    min_area: NonNegativeInt = 15
    max_area: Count = 5000
    min_contrast: NonNegative = 5.0  # foreground minus background, in robust SDs of the background

    def __post_init__(self) -> None:
        ordered_pair("nuclei (min_area, max_area)", (self.min_area, self.max_area))


@settings
class CellConfig:
    """Secondary objects grown from the nuclei over the foreground of cytoplasm channels."""

    channels: tuple[str, ...] = ("Actin", "Tubulin")
    threshold: Threshold = "otsu"
    threshold_scale: Positive = 1.0
    local_block_size: Count = 101
    smoothing_sigma: NonNegative = 1.5
    method: Literal["gradient", "intensity"] = "gradient"
    compactness: NonNegative = 0.001  # >0 regularises boundaries towards distance (CellProfiler's propagation lambda)
    min_area: NonNegativeInt = 40
    max_area: Count = 20000

    def __post_init__(self) -> None:
        ordered_pair("cells (min_area, max_area)", (self.min_area, self.max_area))


def _threshold(image: np.ndarray, kind: Threshold, block_size: int) -> np.ndarray | float:
    if kind == "otsu":
        return filters.threshold_otsu(image)
    if kind == "local":
        return filters.threshold_local(image, block_size=block_size | 1, method="gaussian")
    raise ValueError(f"unknown threshold {kind!r}; use 'otsu' or 'local'")


def _size_filter(labels: np.ndarray, min_area: int, max_area: int) -> np.ndarray:
    areas = np.bincount(labels.ravel())
    bad = (areas < min_area) | (areas > max_area)
    bad[0] = False
    labels = np.where(bad[labels], 0, labels)
    return segmentation.relabel_sequential(labels)[0]


def _is_blank(image: np.ndarray) -> bool:
    return not np.all(np.isfinite(image)) or float(np.ptp(image)) == 0.0


def _has_contrast(image: np.ndarray, mask: np.ndarray, min_contrast: float) -> bool:
    """Is the foreground brighter than the background by ``min_contrast`` robust SDs of it?"""
    if mask.all() or not mask.any():
        return False
    background = image[~mask]
    spread = 1.4826 * np.median(np.abs(background - np.median(background)))
    return float(np.median(image[mask]) - np.median(background)) > min_contrast * max(spread, 1e-6)


def segment_nuclei(dna: np.ndarray, config: NucleiConfig) -> np.ndarray:
    """Label image of nuclei. Blank, saturated, non-finite or contrast-free fields give none."""
    empty = np.zeros(dna.shape, np.int32)
    if _is_blank(dna):
        return empty
    smooth = filters.gaussian(dna.astype(np.float32), config.smoothing_sigma, preserve_range=True)
    mask = smooth > config.threshold_scale * _threshold(smooth, config.threshold, config.local_block_size)
    if not _has_contrast(dna, mask, config.min_contrast):
        return empty
    mask = morphology.remove_small_objects(ndimage.binary_fill_holes(mask), max_size=config.min_area - 1)
    if config.declump == "none":
        return _size_filter(measure.label(mask).astype(np.int32), config.min_area, config.max_area)
    distance = ndimage.distance_transform_edt(mask)
    if config.declump == "distance":
        peaks = peak_local_max(
            filters.gaussian(distance, 1.0), min_distance=config.min_distance, labels=measure.label(mask), exclude_border=False
        )
        seeds = np.zeros(mask.shape, bool)
        seeds[tuple(peaks.T)] = True
    else:
        seeds = morphology.h_maxima(distance, config.h).astype(bool)
    markers = measure.label(seeds)
    labels = segmentation.watershed(-distance, markers, mask=mask)
    return _size_filter(labels.astype(np.int32), config.min_area, config.max_area)


def cytoplasm_image(field: np.ndarray, channel_index: list[int]) -> np.ndarray:
    """Sum of the chosen channels, each scaled by its 99th percentile."""
    planes = [field[i] / max(float(np.percentile(field[i], 99)), 1e-6) for i in channel_index]
    return np.sum(planes, axis=0)


def segment_cells(cytoplasm: np.ndarray, nuclei: np.ndarray, config: CellConfig) -> tuple[np.ndarray, np.ndarray]:
    """Cells grown from ``nuclei`` on ``cytoplasm``; returns ``(nuclei, cells)`` with shared ids.

    Every cell has exactly one nucleus and keeps its id; cells out of the size range are
    dropped from both images, which are then relabelled 1..n together.
    """
    if nuclei.max() == 0 or _is_blank(cytoplasm):
        return np.zeros_like(nuclei), np.zeros_like(nuclei)
    smooth = filters.gaussian(cytoplasm.astype(np.float32), config.smoothing_sigma, preserve_range=True)
    foreground = smooth > config.threshold_scale * _threshold(smooth, config.threshold, config.local_block_size)
    foreground = ndimage.binary_fill_holes(foreground | (nuclei > 0))
    elevation = filters.sobel(smooth) if config.method == "gradient" else -smooth
    cells = segmentation.watershed(elevation, nuclei, mask=foreground, compactness=config.compactness)
    cells = np.where(nuclei > 0, nuclei, cells).astype(np.int32)
    areas = np.bincount(cells.ravel(), minlength=nuclei.max() + 1)
    keep = (areas >= config.min_area) & (areas <= config.max_area)
    keep[0] = False
    relabel = np.zeros(keep.size, np.int32)
    relabel[keep] = np.arange(1, keep.sum() + 1)
    return relabel[nuclei], relabel[cells]


def pair_objects(nuclei: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Give independently segmented nuclei and cells shared ids: each cell keeps the nucleus it
    overlaps most; cells without a nucleus and nuclei outside every cell are dropped."""
    n_nuclei, n_cells = int(nuclei.max()) + 1, int(cells.max()) + 1
    overlap = np.bincount(cells.ravel() * n_nuclei + nuclei.ravel(), minlength=n_cells * n_nuclei)
    overlap = overlap.reshape(n_cells, n_nuclei)[:, 1:]
    best = overlap.argmax(axis=1) + 1
    has_nucleus = overlap.max(axis=1) > 0
    has_nucleus[0] = False
    cell_ids = np.zeros(n_cells, np.int32)
    cell_ids[has_nucleus] = np.arange(1, has_nucleus.sum() + 1)
    nucleus_ids = np.zeros(n_nuclei, np.int32)
    nucleus_ids[best[has_nucleus]] = cell_ids[has_nucleus]
    paired_cells = cell_ids[cells]
    paired_nuclei = np.where(paired_cells == nucleus_ids[nuclei], nucleus_ids[nuclei], 0)
    return paired_nuclei, paired_cells
