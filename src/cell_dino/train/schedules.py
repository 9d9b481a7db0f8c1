"""Per-iteration schedules, precomputed as arrays (as in DINO's ``cosine_scheduler``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cell_dino.train.loss import LossConfig
from cell_dino.train.optimiser import OptimConfig


def cosine_schedule(
    base: float, final: float, epochs: int, iterations_per_epoch: int, warmup_epochs: int = 0, warmup_start: float = 0.0
) -> np.ndarray:
    """Linear warm-up from ``warmup_start`` to ``base`` over ``warmup_epochs``, then cosine to ``final``."""
    warmup_iters = warmup_epochs * iterations_per_epoch
    warmup = np.linspace(warmup_start, base, warmup_iters, endpoint=False)
    steps = np.arange(epochs * iterations_per_epoch - warmup_iters)
    cosine = final + 0.5 * (base - final) * (1 + np.cos(np.pi * steps / max(len(steps), 1)))
    return np.concatenate([warmup, cosine])


def teacher_temperature_schedule(warmup_start: float, final: float, warmup_epochs: int, epochs: int) -> np.ndarray:
    """Per-epoch teacher temperature: linear warm-up, then constant."""
    return np.concatenate([np.linspace(warmup_start, final, warmup_epochs), np.full(max(epochs - warmup_epochs, 0), final)])


@dataclass
class Schedules:
    """Learning rate, weight decay and teacher momentum per iteration; teacher temperature per epoch."""

    lr: np.ndarray
    weight_decay: np.ndarray
    momentum: np.ndarray
    teacher_temp: np.ndarray

    @classmethod
    def of(cls, optim: OptimConfig, loss: LossConfig, iterations_per_epoch: int, total_batch: int) -> Schedules:
        """DINO's schedules; the learning rate is ``optim.lr * total_batch / 256``."""
        o = optim
        return cls(
            lr=cosine_schedule(o.lr * total_batch / 256, o.min_lr, o.epochs, iterations_per_epoch, o.warmup_epochs),
            weight_decay=cosine_schedule(o.weight_decay, o.weight_decay_end, o.epochs, iterations_per_epoch),
            momentum=cosine_schedule(o.momentum_teacher, 1.0, o.epochs, iterations_per_epoch),
            teacher_temp=teacher_temperature_schedule(
                loss.warmup_teacher_temp, loss.teacher_temp, loss.warmup_teacher_temp_epochs, o.epochs
            ),
        )
