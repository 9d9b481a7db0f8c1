"""Image formation per batch: uneven illumination, gain, background, optical blur, shot and read noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

ADU_PER_UNIT = np.array([4000.0, 2500.0, 3000.0])  # DNA, Tubulin, Actin signal units to counts
ADU_PER_PHOTON = 2.0
READ_NOISE_ADU = 6.0


@dataclass(frozen=True)
class BatchOptics:
    """What one imaging batch does to every field: the batch effect of a real screen."""

    illumination: np.ndarray  # C x H x W multiplicative field, max 1
    gain: float
    background: np.ndarray  # C offsets in counts
    blur_sigma: float


def illumination_field(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth vignetting field with a tilt, normalised to a maximum of 1."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]] / np.array(shape).max()
    cy, cx = rng.uniform(0.3, 0.7, 2) * np.array(shape) / np.array(shape).max()
    vignette = 1 - rng.uniform(0.25, 0.5) * ((yy - cy) ** 2 + (xx - cx) ** 2) / 0.5
    tilt_angle = rng.uniform(0, 2 * np.pi)
    tilt = 1 + rng.uniform(0.0, 0.2) * (np.cos(tilt_angle) * xx + np.sin(tilt_angle) * yy)
    field = vignette * tilt
    return field / field.max()


def batch_optics(
    shape: tuple[int, int], n_channels: int, rng: np.random.Generator, gain: tuple[float, float] = (0.75, 1.3)
) -> BatchOptics:
    """Draw the optics of one batch (camera gain uniform in ``gain``)."""
    return BatchOptics(
        illumination=np.stack([illumination_field(shape, rng) for _ in range(n_channels)]),
        gain=float(rng.uniform(*gain)),
        background=rng.uniform(250, 600, n_channels),
        blur_sigma=float(rng.uniform(0.5, 1.3)),
    )


def acquire(signal: np.ndarray, optics: BatchOptics, plate_gain: float, rng: np.random.Generator) -> np.ndarray:
    """Turn a noiseless ``C x H x W`` signal into a 16-bit camera image."""
    blurred = ndimage.gaussian_filter(signal, (0, optics.blur_sigma, optics.blur_sigma))
    expected = (
        optics.illumination * optics.gain * plate_gain * ADU_PER_UNIT[:, None, None] * blurred
        + optics.background[:, None, None]
    )
    photons = rng.poisson(np.clip(expected, 0, None) / ADU_PER_PHOTON)
    counts = photons * ADU_PER_PHOTON + rng.normal(0, READ_NOISE_ADU, expected.shape)
    return np.clip(np.round(counts), 0, np.iinfo(np.uint16).max).astype(np.uint16)
