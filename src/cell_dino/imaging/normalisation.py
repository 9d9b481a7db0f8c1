"""Intensity clipping, downscaling and streaming per-channel normalisation statistics."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from skimage.transform import downscale_local_mean


def downscale(field: np.ndarray, factor: int) -> np.ndarray:
    """Downscale a ``C x H x W`` field by an integer factor (block mean, trailing pixels dropped)."""
    if factor == 1:
        return field
    h, w = (s - s % factor for s in field.shape[1:])
    return downscale_local_mean(field[:, :h, :w], (1, factor, factor)).astype(np.float32)


@dataclass(frozen=True)
class ChannelStats:
    """Per-channel statistics of preprocessed intensities (lists in channel order)."""

    channels: list[str]
    mean: list[float]
    std: list[float]
    p01: list[float]
    p50: list[float]
    p99: list[float]
    p999: list[float]
    n_pixels: int

    def as_dict(self) -> dict:
        return asdict(self)


class ChannelStatsAccumulator:
    """Exact streaming mean and std, and percentiles from a fine fixed-bin histogram."""

    def __init__(self, channels: list[str], upper: float, bins: int = 65536) -> None:
        self.channels = list(channels)
        self.edges = np.linspace(0.0, upper, bins + 1)
        self.hist = np.zeros((len(channels), bins), np.int64)
        self.sum = np.zeros(len(channels))
        self.sum_sq = np.zeros(len(channels))
        self.n = 0

    def add(self, field: np.ndarray) -> None:
        flat = field.reshape(field.shape[0], -1).astype(np.float64)
        self.sum += flat.sum(axis=1)
        self.sum_sq += np.square(flat).sum(axis=1)
        self.n += flat.shape[1]
        upper = self.edges[-1]
        for c, values in enumerate(flat):
            self.hist[c] += np.histogram(np.clip(values, 0.0, upper), self.edges)[0]

    def _percentile(self, q: float) -> list[float]:
        cumulative = np.cumsum(self.hist, axis=1)
        index = [int(np.searchsorted(row, q / 100 * row[-1])) for row in cumulative]
        return [float(self.edges[i + 1]) for i in index]

    def result(self) -> ChannelStats:
        if self.n == 0:
            raise ValueError("no fields were added")
        mean = self.sum / self.n
        std = np.sqrt(np.maximum(self.sum_sq / self.n - mean**2, 0.0))
        return ChannelStats(
            channels=self.channels, mean=mean.tolist(), std=std.tolist(), p01=self._percentile(1),
            p50=self._percentile(50), p99=self._percentile(99), p999=self._percentile(99.9), n_pixels=self.n,
        )  # fmt: skip
