"""Per-iteration schedules, precomputed as arrays (as in DINO's ``cosine_scheduler``)."""

from __future__ import annotations

import numpy as np


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
