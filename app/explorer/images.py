"""Display images from stored arrays: channel composites and upsampled attention maps."""

from __future__ import annotations

import numpy as np

# a colour per channel position (RGB in 0..1): blue, green, red, magenta, yellow, cyan
PALETTE = [(0.2, 0.4, 1.0), (0.1, 1.0, 0.2), (1.0, 0.15, 0.1), (1.0, 0.2, 1.0), (1.0, 0.9, 0.1), (0.1, 0.9, 1.0)]


def scaled(channel: np.ndarray, low: float = 1.0, high: float = 99.8) -> np.ndarray:
    """One channel to 0..1 between its ``low`` and ``high`` percentiles."""
    channel = np.nan_to_num(channel.astype(np.float32))
    lo, hi = np.percentile(channel, [low, high])
    return np.clip((channel - lo) / (hi - lo), 0, 1) if hi > lo else np.zeros_like(channel)


def composite(image: np.ndarray, shown: list[int]) -> np.ndarray:
    """``C x H x W`` to an ``H x W x 3`` uint8 picture of the ``shown`` channels, each in its colour."""
    picture = np.zeros((*image.shape[-2:], 3), dtype=np.float32)
    for c in shown:
        picture += scaled(image[c])[..., None] * np.array(PALETTE[c % len(PALETTE)], dtype=np.float32)
    return (np.clip(picture, 0, 1) * 255).astype(np.uint8)


def thumbnail(image: np.ndarray, longest: int = 256) -> np.ndarray:
    """Subsample a large field for display."""
    step = max(1, int(np.ceil(max(image.shape[-2:]) / longest)))
    return image[..., ::step, ::step]
