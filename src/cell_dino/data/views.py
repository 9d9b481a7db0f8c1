"""Lazy views of an ``N x C x H x W`` image array (a store's, or another view): one channel of
every item, or a subset of the items. Indexable like the array, picklable for workers."""

from __future__ import annotations

from typing import Any

import numpy as np


class ChannelImages:
    """One channel of an ``N x C x H x W`` image array, as ``N x 1 x H x W`` (read lazily)."""

    def __init__(self, images: Any, channel: int) -> None:
        self.images, self.channel = images, channel
        self.shape = (images.shape[0], 1, *images.shape[2:])

    def __getitem__(self, index: Any) -> np.ndarray:
        return np.asarray(self.images[index])[..., self.channel : self.channel + 1, :, :]


class SubsetImages:
    """The items ``indices`` (in that order) of an ``N x C x H x W`` image array: ``[i]`` and
    ``[a:b]`` address positions among them; consecutive items are read as one slice."""

    def __init__(self, images: Any, indices: np.ndarray) -> None:
        self.images, self.indices = images, np.asarray(indices, dtype=np.int64)
        self.shape = (len(self.indices), *images.shape[1:])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: Any) -> np.ndarray:
        if isinstance(index, (int, np.integer)):
            return self.images[int(self.indices[index])]
        chosen = self.indices[index]
        if len(chosen) == 0:
            return np.asarray(self.images[0:0])
        breaks = np.flatnonzero(np.diff(chosen) != 1) + 1
        return np.concatenate([np.asarray(self.images[int(run[0]) : int(run[-1]) + 1]) for run in np.split(chosen, breaks)])
