"""Which input channel each attention head looks at: Otsu-binarised attention maps against
Otsu-binarised channels, intersection over union averaged over items (a heads x channels matrix)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import zoom
from skimage.filters import threshold_otsu


def otsu_mask(image: np.ndarray) -> np.ndarray:
    """Pixels above Otsu's threshold; an image with a single value has no foreground."""
    if np.ptp(image) == 0:
        return np.zeros(image.shape, dtype=bool)
    return image > threshold_otsu(image)


def upsampled(attention: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Patch-grid maps (``... x h x w``) resized bilinearly to pixels (``... x H x W``)."""
    factors = (1.0,) * (attention.ndim - 2) + (shape[0] / attention.shape[-2], shape[1] / attention.shape[-1])
    return zoom(attention.astype(np.float32), factors, order=1, grid_mode=True, mode="nearest")


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def attention_channel_iou(attention: np.ndarray, images: np.ndarray, channels: list[str], heads: list[str] | None = None) -> pd.DataFrame:
    """Mean IoU over items of each head's Otsu mask with each channel's Otsu mask.

    ``attention`` n x heads x h x w (any grid), ``images`` n x C x H x W; heads as rows, named by
    ``heads`` (default ``head i``)."""
    if attention.shape[0] != images.shape[0]:
        raise ValueError(f"attention has {attention.shape[0]} items, images {images.shape[0]}")
    if images.shape[1] != len(channels):
        raise ValueError(f"images have {images.shape[1]} channels, names given for {len(channels)}: {channels}")
    maps = upsampled(attention, tuple(images.shape[-2:]))
    totals = np.zeros((maps.shape[1], images.shape[1]))
    for item in range(len(images)):
        channel_masks = [otsu_mask(np.nan_to_num(images[item, c])) for c in range(images.shape[1])]
        for head in range(maps.shape[1]):
            head_mask = otsu_mask(maps[item, head])
            totals[head] += [iou(head_mask, m) for m in channel_masks]
    names = heads if heads is not None else [f"head {h}" for h in range(maps.shape[1])]
    return pd.DataFrame(totals / len(images), index=pd.Index(names, name="head"), columns=channels)
