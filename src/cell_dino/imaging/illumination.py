"""Illumination correction in the CellProfiler manner (CorrectIlluminationCalculate / Apply).

The function of a plate is the robust mean image of each channel over the plate's fields (each
field clipped at a high percentile so that bright debris and mitotic cells do not imprint),
smoothed heavily, and scaled to a mean of 1 so that dividing by it keeps intensities on their scale.
Smoothing is CellProfiler's "Fit Polynomial" (default: exact for vignetting, no border bias, robust
with few sparse fields) or a Gaussian filter (follows any shape, biased within ~2 sigma of borders).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import ndimage

Smoothing = Literal["polynomial", "gaussian"]
FIT_STRIDE = 4


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


def _polynomial_basis(shape: tuple[int, int], degree: int, stride: int = 1) -> np.ndarray:
    yy, xx = np.mgrid[0 : shape[0] : stride, 0 : shape[1] : stride]
    y, x = (2 * yy / max(shape[0] - 1, 1) - 1).ravel(), (2 * xx / max(shape[1] - 1, 1) - 1).ravel()
    return np.stack([x**i * y**j for i in range(degree + 1) for j in range(degree + 1 - i)], axis=1)


def fit_polynomial(image: np.ndarray, degree: int) -> np.ndarray:
    """Least-squares 2-D polynomial surface of total degree ``degree`` through a 2-D image."""
    sample = _polynomial_basis(image.shape, degree, FIT_STRIDE)
    coefficients, *_ = np.linalg.lstsq(sample, image[::FIT_STRIDE, ::FIT_STRIDE].ravel(), rcond=None)
    return (_polynomial_basis(image.shape, degree) @ coefficients).reshape(image.shape)


def illumination_function(
    mean_image: np.ndarray, smoothing: Smoothing = "polynomial", smoothing_sigma: float = 50.0, degree: int = 2
) -> np.ndarray:
    """Smooth each channel of a ``C x H x W`` mean image and scale it to mean 1."""
    if smoothing == "polynomial":
        smooth = np.stack([fit_polynomial(channel, degree) for channel in mean_image])
    elif smoothing == "gaussian":
        smooth = ndimage.gaussian_filter(mean_image, (0, smoothing_sigma, smoothing_sigma), mode="nearest")
    else:
        raise ValueError(f"unknown illumination smoothing {smoothing!r}; use 'polynomial' or 'gaussian'")
    smooth = np.maximum(smooth, 1e-3 * smooth.max(axis=(1, 2), keepdims=True))
    return (smooth / smooth.mean(axis=(1, 2), keepdims=True)).astype(np.float32)


def correct_illumination(field: np.ndarray, function: np.ndarray) -> np.ndarray:
    """Divide a field by its plate's illumination function."""
    return (field / function).astype(np.float32)
