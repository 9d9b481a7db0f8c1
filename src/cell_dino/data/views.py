"""Lazy views of an ``N x C x H x W`` image array (a store's, or another view): one channel of
every item, every channel of every item as an image of its own, or a subset of the items. Indexable
like the array, picklable for workers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class ChannelImages:
    """One channel of an ``N x C x H x W`` image array, as ``N x 1 x H x W`` (read lazily)."""

    def __init__(self, images: Any, channel: int) -> None:
        self.images, self.channel = images, channel
        self.shape = (images.shape[0], 1, *images.shape[2:])

    def __getitem__(self, index: Any) -> np.ndarray:
        return np.asarray(self.images[index])[..., self.channel : self.channel + 1, :, :]


class ChannelBag:
    """Every channel of every item of an ``N x C x H x W`` image array as an image of its own, ``N C
    x 1 x H x W`` (bag of channels, as CHAMMI-75 trains MorphEm): image ``k`` is channel ``k % C`` of
    item ``k // C``, read lazily; with ``mean`` and ``std`` (``C`` values: the data set's channel
    statistics) each is standardised by its own channel's (a NaN pixel as 0 first, as embedding reads it)."""

    def __init__(self, images: Any, mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> None:
        self.images, self.n_channels = images, images.shape[1]
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std = None if std is None else np.asarray(std, dtype=np.float32)
        self.shape = (images.shape[0] * self.n_channels, 1, *images.shape[2:])

    def __len__(self) -> int:
        return self.shape[0]

    def over(self, images: Any) -> ChannelBag:
        """The same bag over ``images`` (the same items, e.g. read into memory)."""
        return ChannelBag(images, self.mean, self.std)

    def __getitem__(self, index: Any) -> np.ndarray:
        if not isinstance(index, (int, np.integer)):  # a slice or indices: their images stacked
            rows = range(*index.indices(len(self))) if isinstance(index, slice) else np.asarray(index).ravel()
            return np.stack([self[int(k)] for k in rows]) if len(rows) else np.empty((0, *self.shape[1:]), np.float32)
        item, channel = divmod(int(index), self.n_channels)
        image = np.nan_to_num(np.asarray(self.images[item][channel : channel + 1], dtype=np.float32))  # NaN as 0, as embed reads it
        return image if self.mean is None else (image - self.mean[channel]) / self.std[channel]


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
