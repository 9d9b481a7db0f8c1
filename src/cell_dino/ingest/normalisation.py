"""Downscaling, resizing and padding fields, and streaming per-channel normalisation statistics."""

from __future__ import annotations

import numpy as np
from skimage.transform import downscale_local_mean, resize

from cell_dino.data.channels import ChannelStats
from cell_dino.data.errors import DataError

RESERVOIR = 2**20  # pixels per channel kept for the percentiles: any bit depth, any number of fields
FIELD_SAMPLE = 2**16  # pixels per channel drawn from each field into the reservoir


def downscale(field: np.ndarray, factor: int) -> np.ndarray:
    """Downscale a ``C x H x W`` field by an integer factor (block mean, trailing pixels dropped)."""
    if factor == 1:
        return field
    h, w = (s - s % factor for s in field.shape[1:])
    return downscale_local_mean(field[:, :h, :w], (1, factor, factor)).astype(np.float32)


def resize_field(field: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A ``C x H x W`` field resized to ``shape`` (bicubic, anti-aliased when shrinking), never
    below the field's own minimum (bicubic overshoot at edges)."""
    if field.shape[1:] == tuple(shape):
        return field
    resized = resize(field, (field.shape[0], *shape), order=3, anti_aliasing=True, preserve_range=True)
    return np.maximum(resized, field.min()).astype(np.float32)


def centre_pad(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A ``... x H x W`` image centred on a zero canvas of ``shape`` (cut about its centre where it is
    larger): single-cell crops of different sizes brought to one without resampling."""
    out = np.zeros((*image.shape[:-2], *shape), dtype=image.dtype)
    source, target = [], []
    for have, want in zip(image.shape[-2:], shape, strict=True):
        cut, pad = max(have - want, 0) // 2, max(want - have, 0) // 2
        size = min(have, want)
        source.append(slice(cut, cut + size))
        target.append(slice(pad, pad + size))
    out[..., target[0], target[1]] = image[..., source[0], source[1]]
    return out


class ChannelStatsAccumulator:
    """Exact streaming mean and standard deviation; percentiles from a seeded uniform sample of
    pixels (a reservoir of ``RESERVOIR`` per channel), so they hold for any bit depth or range."""

    def __init__(self, channels: list[str], seed: int = 0) -> None:
        self.channels = list(channels)
        self.rng = np.random.default_rng(seed)
        self.reservoir = np.empty((len(channels), 0), np.float32)
        self.seen = 0  # pixels per channel offered to the reservoir
        self.sum = np.zeros(len(channels))
        self.sum_sq = np.zeros(len(channels))
        self.n = 0

    def add(self, field: np.ndarray) -> None:
        flat = field.reshape(field.shape[0], -1).astype(np.float64)
        self.sum += flat.sum(axis=1)
        self.sum_sq += np.square(flat).sum(axis=1)
        self.n += flat.shape[1]
        sample = flat[:, self.rng.choice(flat.shape[1], min(FIELD_SAMPLE, flat.shape[1]), replace=False)].astype(np.float32)
        room = RESERVOIR - self.reservoir.shape[1]
        if room > 0:
            self.reservoir = np.concatenate([self.reservoir, sample[:, :room]], axis=1)
        rest = sample[:, max(room, 0) :]
        slots = self.rng.integers(0, self.seen + max(room, 0) + np.arange(1, rest.shape[1] + 1))  # Algorithm R
        keep = slots < RESERVOIR
        self.reservoir[:, slots[keep]] = rest[:, keep]
        self.seen += sample.shape[1]

    def merge(self, other: ChannelStatsAccumulator) -> None:
        """Add the fields ``other`` saw (another shard): the sums exactly; the two reservoirs become
        one uniform sample of both, each side kept in proportion to the pixels it was offered."""
        if other.channels != self.channels:
            raise ValueError(f"channel statistics of {other.channels} cannot join those of {self.channels}")
        if other.n == 0:
            return
        self.sum, self.sum_sq, self.n = self.sum + other.sum, self.sum_sq + other.sum_sq, self.n + other.n
        seen, mine, theirs = self.seen + other.seen, self.reservoir.shape[1], other.reservoir.shape[1]
        size = min(RESERVOIR, mine + theirs)
        keep = min(mine, max(size - theirs, round(size * self.seen / seen)))
        picked = [r[:, self.rng.choice(r.shape[1], k, replace=False)] for r, k in ((self.reservoir, keep), (other.reservoir, size - keep))]
        self.reservoir, self.seen = np.concatenate(picked, axis=1), seen

    def result(self) -> ChannelStats:
        """The statistics; raises :class:`~cell_dino.data.errors.DataError` when nothing was added
        or a statistic is not finite."""
        if self.n == 0:
            raise DataError("no fields were added: no channel statistics")
        mean = self.sum / self.n
        std = np.sqrt(np.maximum(self.sum_sq / self.n - mean**2, 0.0))
        q = np.percentile(self.reservoir, [1, 50, 99, 99.9], axis=1, method="inverted_cdf").astype(float)
        if not (np.isfinite(mean).all() and np.isfinite(std).all() and np.isfinite(q).all()):
            raise DataError(f"channel statistics are not finite (mean {mean.tolist()}, std {std.tolist()}): a field held NaN or inf")
        return ChannelStats(
            channels=self.channels,
            mean=mean.tolist(),
            std=std.tolist(),
            p01=q[0].tolist(),
            p50=q[1].tolist(),
            p99=q[2].tolist(),
            p999=q[3].tolist(),
            n_pixels=self.n,
        )
