"""Illumination correction in the CellProfiler manner (CorrectIlluminationCalculate / Apply).

The function of a plate is the robust mean image of each channel over the plate's fields (each
field clipped at a high percentile so that bright debris and mitotic cells do not imprint),
smoothed heavily, then rescaled as CorrectIlluminationCalculate does. Its default ("Rescale: Yes")
floors the function at its robust minimum (the 2nd percentile of its positive values) and divides
by it, so the function is at least 1 and correction never amplifies a pixel; "Median" divides by
the median instead (intensities keep their scale; amplification is bounded by median / robust
minimum, as the same floor is kept: CellProfiler does not floor there). Smoothing is CellProfiler's
"Fit Polynomial" (default: exact for vignetting, no border bias, robust with few sparse fields) or
its Gaussian filter (follows any shape): zero-padded and divided by the filtered image of ones, as
CellProfiler smooths with a mask, so that borders are averaged over the pixels inside the field
only (sigma = filter size / 2.35). The range of a function
(max / min) is how strongly it reshapes a field; an extreme one means the mean image held signal
(cells in part of every field), not illumination, and is reported. A screen's own saved functions
(LoadData's ``Illum`` columns) are read and applied instead of estimated when asked.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import signal

from cell_dino.data.errors import DataError
from cell_dino.data.locations import opened

Smoothing = Literal["polynomial", "gaussian"]
Rescale = Literal["robust_minimum", "median"]
FIT_STRIDE = 4
ROBUST_FACTOR = 0.02  # CellProfiler's robust minimum: this quantile of the positive values


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


def rescale(plane: np.ndarray, how: Rescale = "robust_minimum") -> np.ndarray:
    """One channel's smoothed function floored at its robust minimum and divided by it
    (``robust_minimum``) or by its median (``median``); all ones when nothing is positive."""
    positive = np.sort(plane[plane > 0], axis=None)
    if positive.size == 0:
        return np.ones_like(plane)
    floor = positive[int(positive.size * ROBUST_FACTOR)]
    plane = np.maximum(plane, floor)
    if how == "robust_minimum":
        return plane / floor
    if how == "median":
        return plane / positive[positive.size // 2]
    raise ValueError(f"unknown illumination rescale {how!r}; use 'robust_minimum' or 'median'")


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The normalised 1-D Gaussian of ``scipy.ndimage.gaussian_filter`` (radius ``truncate`` sigma)."""
    radius = int(truncate * sigma + 0.5)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return kernel / kernel.sum()


def zero_padded_gaussian(planes: np.ndarray, sigma: float) -> np.ndarray:
    """``scipy.ndimage.gaussian_filter(plane, sigma, mode="constant")`` of each ``H x W`` plane of
    ``planes`` (``... x H x W``), by FFT convolution along each axis: at the illumination function's
    sigma (136 px for the BBBC021 recipe) the direct filter's kernel is over 1,000 px wide and took
    1.1 s a plane, the FFT route 0.07 s (``benchmarks/illumination.py``). Sigma 0 returns the planes
    unchanged, as scipy does; a negative or non-finite sigma raises ``ValueError``."""
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"Gaussian smoothing_sigma must be a finite number of pixels >= 0, got {sigma}")
    if sigma == 0:
        return np.asarray(planes, dtype=np.float64).copy()
    kernel = gaussian_kernel(sigma)
    lead = (1,) * (planes.ndim - 2)
    smooth = signal.fftconvolve(planes, kernel.reshape(*lead, -1, 1), mode="same", axes=-2)
    return signal.fftconvolve(smooth, kernel.reshape(*lead, 1, -1), mode="same", axes=-1)


def gaussian_inside(image: np.ndarray, sigma: float) -> np.ndarray:
    """Each ``H x W`` plane of a ``C x H x W`` image Gaussian-filtered over the pixels inside the
    image only: zero padding, divided by the filtered ones (CellProfiler's smoothing with a mask)."""
    inside = zero_padded_gaussian(np.ones(image.shape[-2:]), sigma)
    return zero_padded_gaussian(np.asarray(image, dtype=np.float64), sigma) / inside


def illumination_function(
    mean_image: np.ndarray,
    smoothing: Smoothing = "polynomial",
    smoothing_sigma: float = 50.0,
    degree: int = 2,
    how: Rescale = "robust_minimum",
) -> np.ndarray:
    """Smooth each channel of a ``C x H x W`` mean image and rescale it (see :func:`rescale`)."""
    if smoothing == "polynomial":
        smooth = np.stack([fit_polynomial(channel, degree) for channel in mean_image])
    elif smoothing == "gaussian":
        smooth = gaussian_inside(mean_image, smoothing_sigma)
    else:
        raise ValueError(f"unknown illumination smoothing {smoothing!r}; use 'polynomial' or 'gaussian'")
    return np.stack([rescale(channel, how) for channel in smooth]).astype(np.float32)


def function_range(function: np.ndarray) -> list[float]:
    """Per channel of a ``C x H x W`` function: max / min, the most correction changes one pixel
    relative to another (1 = flat)."""
    return (function.max(axis=(1, 2)) / function.min(axis=(1, 2))).astype(float).tolist()


def correct_illumination(field: np.ndarray, function: np.ndarray) -> np.ndarray:
    """Divide a field by its plate's illumination function."""
    return (field / function).astype(np.float32)


def read_illumination_function(locations: list[str], shape: tuple[int, ...] | None) -> np.ndarray:
    """A plate's saved illumination function, ``C x H x W`` float32, one ``.npy`` of ``H x W`` per
    channel (CellProfiler's CorrectIlluminationCalculate output named by LoadData's
    ``FileName_Illum<X>``), from paths or URLs. Raises :class:`~cell_dino.data.errors.DataError`
    naming the file when it is missing, unreadable, not 2-D, not of the fields' ``shape``, or not
    finite and positive everywhere (the fields are divided by it)."""
    planes = []
    for location in locations:
        try:
            with opened(location) as source:
                plane = np.load(source, allow_pickle=False)  # a path, or a seekable fsspec file
        except (OSError, ValueError) as exc:
            raise DataError(f"{location}: illumination function unreadable ({exc})") from exc
        if plane.ndim != 2 or (shape is not None and plane.shape != tuple(shape)):
            raise DataError(f"{location}: illumination function of shape {plane.shape}, the fields are {tuple(shape or ())}")
        if not np.isfinite(plane).all() or not (plane > 0).all():
            raise DataError(f"{location}: illumination function has non-finite or non-positive values (fields are divided by it)")
        planes.append(plane.astype(np.float32))
    return np.stack(planes)
