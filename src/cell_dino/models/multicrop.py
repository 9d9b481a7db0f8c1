"""Run a backbone once per crop resolution, then the head once on all crops."""

from __future__ import annotations

import torch
import torch.nn as nn


class MultiCropWrapper(nn.Module):
    """``forward(crops)`` takes a list of ``B x C x H x W`` batches (global crops first) and returns
    the head outputs of all of them concatenated along the batch axis, in the same order."""

    def __init__(self, backbone: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, crops: list[torch.Tensor]) -> torch.Tensor:
        sizes = torch.tensor([c.shape[-1] for c in crops])
        ends = torch.cumsum(torch.unique_consecutive(sizes, return_counts=True)[1], 0).tolist()
        features, start = [], 0
        for end in ends:
            features.append(self.backbone(torch.cat(crops[start:end])))
            start = end
        return self.head(torch.cat(features))
