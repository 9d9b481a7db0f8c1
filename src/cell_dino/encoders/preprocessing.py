"""How an encoder's inputs are prepared: normalisation (per image, or with the data set's channel
statistics) and resizing to the side it was trained at. Training's augmentations and embedding
use the same functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

Normalise = Literal["self", "dataset", "none"]


def self_normalise(x: torch.Tensor) -> torch.Tensor:
    """Each image and channel of ``B x C x H x W`` to mean 0, standard deviation 1 (training and embedding alike)."""
    return (x - x.mean(dim=(2, 3), keepdim=True)) / (x.std(dim=(2, 3), keepdim=True) + 1e-6)


def dataset_statistics(stats: dict, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """The data set's per-channel mean and standard deviation (ingest's statistics), for
    ``normalise: dataset``; raises ValueError naming a channel without spread (it would be a
    division by zero)."""
    flat = [name for name, std in zip(stats.get("channels", range(len(stats["std"]))), stats["std"]) if not std > 0]
    if flat:
        raise ValueError(
            f"channel(s) {flat} have no spread (std 0) in the data-set statistics: normalise: dataset would divide by "
            "zero; use normalise: self or leave the channel out"
        )
    return (torch.tensor(stats["mean"], dtype=torch.float32, device=device), torch.tensor(stats["std"], dtype=torch.float32, device=device))


@dataclass
class Preprocessing:
    """How an encoder's inputs were prepared in training: ``normalise`` (with ``mean`` and ``std``,
    ``1 x C x 1 x 1``, for ``dataset``) and the side ``size`` (px) inputs are resized to."""

    normalise: Normalise
    mean: torch.Tensor | None
    std: torch.Tensor | None
    size: int

    @classmethod
    def of(cls, normalise: Normalise, size: int, stats: dict | None = None) -> Preprocessing:
        """From settings as saved: ``stats`` (ingest's per-channel statistics) for ``dataset``."""
        if normalise != "dataset":
            return cls(normalise, None, None, size)
        mean, std = dataset_statistics(stats or {"mean": [], "std": []})
        return cls("dataset", mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1), size)

    def normalise_only(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised as in training, at the input's own size (NaN as 0)."""
        x = torch.nan_to_num(x)
        if self.normalise == "self":
            return self_normalise(x)
        if self.normalise == "dataset":
            return (x - self.mean.to(x.device)) / self.std.to(x.device)
        return x

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = self.normalise_only(x)
        if x.shape[-2:] != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True, align_corners=False)
        return x
