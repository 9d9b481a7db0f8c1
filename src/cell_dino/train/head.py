"""The DINO projection head (Caron et al. 2021): a 3-layer MLP, an L2-normalised bottleneck and a
weight-normalised last layer whose norm is fixed to 1 by default."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import weight_norm

from cell_dino.core.config import Count, settings


@settings
class HeadConfig:
    """The head's architecture (DINO's defaults); part of a model's identity: resuming needs the same."""

    out_dim: Count = 65536
    hidden_dim: Count = 2048
    bottleneck_dim: Count = 256
    norm_last_layer: bool = True  # the student's last-layer norm fixed at 1 (the teacher's always is)


class DINOHead(nn.Module):
    def __init__(
        self,
        in_dim: int,
        out_dim: int = 65536,
        hidden_dim: int = 2048,
        bottleneck_dim: int = 256,
        n_layers: int = 3,
        norm_last_layer: bool = True,
    ) -> None:
        super().__init__()
        dims = [in_dim] + [hidden_dim] * (n_layers - 1)
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.GELU()]
        layers.append(nn.Linear(dims[-1], bottleneck_dim))
        self.mlp = nn.Sequential(*layers)
        self.apply(self._init_weights)
        self.last_layer = weight_norm(nn.Linear(bottleneck_dim, out_dim, bias=False))
        self.last_layer.parametrizations.weight.original0.data.fill_(1.0)
        if norm_last_layer:
            self.last_layer.parametrizations.weight.original0.requires_grad = False

    @classmethod
    def of(cls, in_dim: int, config: HeadConfig, student: bool = True) -> DINOHead:
        """The student's head (``norm_last_layer`` as configured) or the teacher's (norm fixed)."""
        return cls(in_dim, config.out_dim, config.hidden_dim, config.bottleneck_dim, norm_last_layer=config.norm_last_layer or not student)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last_layer(F.normalize(self.mlp(x), dim=-1, p=2))
