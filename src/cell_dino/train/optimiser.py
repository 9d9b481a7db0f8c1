"""DINO's optimisation: AdamW with weight decay on weights only, per-parameter gradient clipping,
and the settings of the learning-rate, weight-decay and teacher-momentum schedules."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from cell_dino.core.config import Count, NonNegative, NonNegativeInt, Positive, Probability, settings
from cell_dino.core.runtime import fused_optimiser


@settings
class OptimConfig:
    """DINO's defaults (``main_dino.py``)."""

    epochs: Count = 100
    batch_size: Count = 64  # per process
    lr: Positive = 5e-4  # at a total batch of 256; scaled linearly
    min_lr: NonNegative = 1e-6
    warmup_epochs: NonNegativeInt = 10
    weight_decay: NonNegative = 0.04
    weight_decay_end: NonNegative = 0.4
    momentum_teacher: Probability = 0.996
    clip_grad: NonNegative | None = 3.0  # per-parameter gradient norm bound; 0 or null: no clipping
    freeze_last_layer: NonNegativeInt = 1

    def __post_init__(self) -> None:
        if self.warmup_epochs > self.epochs:
            raise ValueError(f"optim.warmup_epochs {self.warmup_epochs} exceeds optim.epochs {self.epochs}")
        if self.min_lr > self.lr:
            raise ValueError(f"optim.min_lr {self.min_lr} exceeds optim.lr {self.lr}: the schedule decays from lr to min_lr")


def parameter_groups(model: nn.Module) -> list[dict[str, Any]]:
    """Weight decay on weights only: not on biases, norms, tokens or position embeddings."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 or name.endswith(".bias") or "token" in name or "pos_embed" in name else decay).append(p)
    return [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}]


@torch.no_grad()
def adamw(model: nn.Module, device: torch.device) -> torch.optim.AdamW:
    """AdamW over the parameter groups, with the fused kernel where the device has one."""
    return torch.optim.AdamW(parameter_groups(model), fused=fused_optimiser(device))


def clip_gradients(model: nn.Module, clip: float | None) -> None:
    """DINO's clipping: each parameter's gradient norm to at most ``clip``, separately; 0 or None
    leaves gradients as they are (WS-DINO trains without clipping)."""
    if not clip:
        return
    for p in model.parameters():
        if p.grad is not None:
            p.grad.mul_(torch.clamp(clip / (p.grad.norm() + 1e-6), max=1.0))


def set_step_values(optimizer: torch.optim.Optimizer, lr: float, weight_decay: float) -> None:
    """One step's scheduled learning rate (every group) and weight decay (the decayed group only)."""
    for i, group in enumerate(optimizer.param_groups):
        group["lr"] = lr
        if i == 0:
            group["weight_decay"] = weight_decay


def cancel_last_layer_gradients(model: nn.Module, epoch: int, freeze_last_layer: int) -> None:
    """DINO keeps the head's last layer fixed for the first ``freeze_last_layer`` epochs."""
    if epoch < freeze_last_layer:
        for p in model.head.last_layer.parameters():
            p.grad = None
