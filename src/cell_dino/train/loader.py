"""Training items from an image store (single-cell crops or whole fields) and their sampler."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from cell_dino.data.views import ChannelBag
from cell_dino.train.distributed import DistributedContext
from cell_dino.train.weak_labels import WeakLabelIndex

if TYPE_CHECKING:
    from cell_dino.train.training_data import TrainingData

log = logging.getLogger(__name__)


class StoreImages(Dataset):
    """``(image, partner)`` float tensors; the partner is the image itself (DINO) or another image
    with the same weak label (WS-DINO), drawn reproducibly from (seed, epoch, index)."""

    def __init__(self, images, weak_labels: WeakLabelIndex | None = None, seed: int = 0) -> None:
        self.images = images
        self.weak_labels = weak_labels
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.images.shape[0]

    def _load(self, index: int) -> torch.Tensor:
        return torch.from_numpy(np.nan_to_num(np.asarray(self.images[index], dtype=np.float32)))

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self._load(index)
        if self.weak_labels is None:
            return image, image
        partner = self.weak_labels.partner(index, np.random.default_rng([self.seed, self.epoch, index]))
        return image, image if partner == index else self._load(partner)


class EpochSampler(Sampler[int]):
    """A reproducible per-epoch order, optionally weighted (with replacement), split across ranks."""

    def __init__(self, n: int, seed: int, rank: int = 0, world_size: int = 1, weights: np.ndarray | None = None) -> None:
        self.n, self.seed, self.rank, self.world_size = n, seed, rank, world_size
        self.weights = None if weights is None else weights / weights.sum()
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n // self.world_size

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(self.n) if self.weights is None else rng.choice(self.n, self.n, p=self.weights)
        return iter(order[self.rank : len(self) * self.world_size : self.world_size].tolist())


def in_memory(images, max_mb: int):
    """``images`` (``N x C x H x W``, e.g. zarr) read whole into a float32 array when that takes at
    most ``max_mb`` MiB, else ``images`` itself, streamed item by item. A zarr read costs about
    1 ms per item (a WS-DINO item reads two), a third of a CPU epoch of the demo's ViT-Ti on
    64 x 64 crops; held in memory, the store is read once (a bag of channels: its items, once)."""
    if isinstance(images, ChannelBag):
        return images.over(in_memory(images.images, max_mb))
    size_mb = int(np.prod(images.shape)) * 4 / 2**20
    if size_mb > max_mb:
        return images
    log.info("training images held in memory: %.0f MiB (runtime.in_memory_mb %d)", size_mb, max_mb)
    if hasattr(images, "oindex"):  # a zarr array: one read of every chunk
        return np.asarray(images[:], dtype=np.float32)
    held = np.empty(images.shape, dtype=np.float32)
    for i in range(len(held)):
        held[i] = images[i]
    return held


def epoch_loader(
    data: TrainingData,
    batch_size: int,
    seed: int,
    num_workers: int,
    context: DistributedContext,
    device: torch.device,
    in_memory_mb: int,
) -> tuple[StoreImages, EpochSampler, DataLoader]:
    """The training items (with WS-DINO partners; in memory when they take at most ``in_memory_mb``
    MiB), a reproducible per-epoch order split across processes (inverse-frequency weighted when
    ``data.balanced``), and the batches; raises when a process would get no whole batch."""
    dataset = StoreImages(in_memory(data.images, in_memory_mb), data.weak_labels, seed)
    weights = data.weak_labels.balanced_weights() if data.balanced and data.weak_labels is not None else None
    sampler = EpochSampler(len(dataset), seed, context.rank, context.world_size, weights)
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        drop_last=True,
        num_workers=num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=num_workers > 0,
    )
    if len(loader) == 0:
        raise ValueError(f"optim.batch_size {batch_size} exceeds the {len(sampler)} items per process")
    return dataset, sampler, loader
