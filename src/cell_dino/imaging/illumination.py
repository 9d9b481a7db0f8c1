"""Illumination correction in the CellProfiler manner (CorrectIlluminationCalculate / Apply).

The function of a plate is the robust mean image of each channel over the plate's fields (each
field clipped at a high percentile so that bright debris and mitotic cells do not imprint),
smoothed heavily, and scaled to a mean of 1 so that dividing by it keeps intensities on their scale.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


class IlluminationAccumulator:
    """Streaming robust mean of ``C x H x W`` fields: memory holds one sum image."""

    def __init__(self, clip_percentile: float = 99.0) -> None:
        self.clip_percentile = clip_percentile
        self._sum: np.ndarray | None = None
        self.count = 0

    def add(self, field: np.ndarray) -> None:
        ceiling = np.percentile(field, self.clip_percentile, axis=(1, 2), keepdims=True)
        clipped = np.minimum(field, ceiling).astype(np.float64)
        if self._sum is None:
            self._sum = np.zeros_like(clipped)
        elif clipped.shape != self._sum.shape:
            raise ValueError(f"field shape {clipped.shape} differs from the plate's {self._sum.shape}")
        self._sum += clipped
        self.count += 1

    def mean(self) -> np.ndarray:
        if self._sum is None:
            raise ValueError("no fields were added")
        return self._sum / self.count


def illumination_function(mean_image: np.ndarray, smoothing_sigma: float) -> np.ndarray:
    """Smooth each channel of the mean image (Gaussian, ``sigma`` in pixels), scale to mean 1."""
    smooth = ndimage.gaussian_filter(mean_image, (0, smoothing_sigma, smoothing_sigma), mode="nearest")
    smooth = np.maximum(smooth, 1e-6 * smooth.max(axis=(1, 2), keepdims=True))
    return (smooth / smooth.mean(axis=(1, 2), keepdims=True)).astype(np.float32)


def correct_illumination(field: np.ndarray, function: np.ndarray) -> np.ndarray:
    """Divide a field by its plate's illumination function."""
    return (field / function).astype(np.float32)
