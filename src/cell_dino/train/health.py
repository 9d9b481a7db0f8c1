"""Training health: is a DINO run learning, or collapsing?

DINO has two collapses (Caron et al. 2021, section 5.3): every output to the uniform distribution
(teacher entropy at ``log(out_dim)``, KL teacher-student near 0: centring won over sharpening) and
every output to one dimension (entropy near 0: sharpening won). A third shows in the backbone's
features themselves: a dimensional collapse, where the features of different items span a few
directions (effective rank, RankMe: Garrido et al. 2023, "RankMe: assessing the downstream
performance of pretrained self-supervised representations by their rank").

Each epoch the trainer measures, on a fixed probe batch of items prepared as embed prepares them,
the teacher backbone's effective rank and the per-dimension spread of its L2-normalised features
(SimSiam's collapse check: about 1 for features spread over every direction, 0 when they are one
point), and judges the epoch with :func:`collapse`.
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from pydantic import Field

from cell_dino.core.config import Count, Positive, settings
from cell_dino.encoders.preprocessing import self_normalise

Share = Annotated[float, Field(gt=0, lt=1)]


@settings
class HealthConfig:
    """The probe batch and the thresholds of :func:`collapse`."""

    probe_items: Count = 256  # items spread evenly over the data set, the same every epoch
    uniform_share: Share = 0.95  # teacher entropy at or above this share of log(out_dim): collapsed to uniform
    sharp_share: Share = 0.02  # teacher entropy at or below this share of log(out_dim), with a rank under min_rank: one dimension
    min_rank: Positive = 4.0  # effective rank of the probe features below this: dimensional collapse


def effective_rank(features: torch.Tensor) -> float:
    """RankMe (Garrido et al. 2023) of ``N x D`` features: ``exp`` of the entropy of the singular
    values normalised to sum 1 (epsilon 1e-7, the paper's), between 1 (one direction) and
    ``min(N, D)``. The features are not centred, as in the paper. NaN for fewer than 2 items, non-finite
    or all-zero features."""
    if features.shape[0] < 2 or features.shape[1] == 0 or not torch.isfinite(features).all():
        return float("nan")
    singular = torch.linalg.svdvals(features.double())
    if singular.sum() == 0:  # every feature 0: no direction at all
        return float("nan")
    p = singular / singular.sum() + 1e-7
    return float(torch.exp(-(p * p.log()).sum()))


def feature_spread(features: torch.Tensor) -> float:
    """The per-dimension standard deviation of L2-normalised ``N x D`` features, averaged over
    dimensions and scaled by ``sqrt(D)`` (Chen and He 2021, SimSiam): about 1 when the features
    spread over the sphere, 0 when every item has the same direction."""
    if features.shape[0] < 2 or features.shape[1] == 0 or not torch.isfinite(features).all():
        return float("nan")
    unit = F.normalize(features.double(), dim=1)
    return float(unit.std(dim=0).mean() * math.sqrt(features.shape[1]))


def collapse(teacher_entropy: float, out_dim: int, rank: float, config: HealthConfig, spread: float = float("nan"), n_probe: int = 0) -> str | None:
    """Why an epoch counts as collapsed, or None when it does not: teacher entropy (nats, the
    epoch's mean) near ``log(out_dim)``; the probe's features all in one direction (``spread`` 0);
    an effective rank under ``min_rank`` (near 0 entropy too: to one dimension). The rank is judged
    only on a probe of at least ``4 * min_rank`` items (``n_probe``; 0: any): fewer cannot show a
    higher rank. A NaN rank or spread (non-finite features, too few items) is not judged."""
    ceiling = math.log(out_dim) if out_dim > 1 else float("nan")
    share = teacher_entropy / ceiling
    if share >= config.uniform_share:
        return (
            f"collapse to the uniform distribution: teacher entropy {teacher_entropy:.2f} is {share:.0%} of "
            f"log(out_dim) {ceiling:.2f} (threshold {config.uniform_share:.0%})"
        )
    if spread < 1e-6:
        return f"collapse to one point: the probe's features all have the same direction (spread {spread:.2g})"
    if rank < config.min_rank and (n_probe == 0 or n_probe >= 4 * config.min_rank):
        kind = "collapse to one dimension" if share <= config.sharp_share else "dimensional collapse"
        return f"{kind}: effective rank {rank:.1f} of the teacher's features is under {config.min_rank:g} (teacher entropy {teacher_entropy:.2f})"
    return None


def probe_rows(n_items: int, probe_items: int) -> np.ndarray:
    """The probe's item indices: ``probe_items`` spread evenly over ``n_items`` (all when fewer)."""
    return np.unique(np.linspace(0, n_items - 1, min(n_items, probe_items)).round().astype(int))


def prepare_probe(
    images: torch.Tensor, size: int, normalise: str, stats: tuple[torch.Tensor, torch.Tensor] | None
) -> torch.Tensor:
    """``B x C x H x W`` raw items as embed prepares them for a network trained on ``size`` crops: a
    field at least twice the crop size is cut to its centre ``size x size`` (WS-DINO's native test
    crop) and then normalised as in training; anything else is normalised, then resized to ``size``."""
    x = torch.nan_to_num(images.float())
    h, w = x.shape[-2:]
    crop = h >= 2 * size and w >= 2 * size
    if crop:
        top, left = (h - size) // 2, (w - size) // 2
        x = x[..., top : top + size, left : left + size]
    if normalise == "self":
        x = self_normalise(x)
    elif normalise == "dataset" and stats is not None:
        x = (x - stats[0].view(1, -1, 1, 1).to(x.device)) / stats[1].view(1, -1, 1, 1).to(x.device)
    if not crop and (h, w) != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x


@torch.no_grad()
def probe_features(backbone: nn.Module, probe: torch.Tensor, batch: int = 128) -> torch.Tensor:
    """The backbone's CLS features of the prepared probe, ``N x D`` float32, in eval mode (the
    teacher has no dropout or drop-path; its mode is restored)."""
    was_training = backbone.training
    backbone.eval()
    features = torch.cat([backbone(probe[i : i + batch]).float() for i in range(0, len(probe), batch)])
    backbone.train(was_training)
    return features


def epoch_health(teacher_entropy: float, out_dim: int, features: torch.Tensor, config: HealthConfig) -> dict:
    """An epoch's health figures for the run's history: ``log_out_dim`` (the uniform
    distribution's entropy), ``effective_rank``, ``feature_spread`` and ``collapse`` (the reason,
    or None)."""
    rank, spread = effective_rank(features), feature_spread(features)
    return {
        "log_out_dim": math.log(out_dim),
        "effective_rank": rank,
        "feature_spread": spread,
        "collapse": collapse(teacher_entropy, out_dim, rank, config, spread, features.shape[0]),
    }


def health_summary(history: list[dict]) -> dict:
    """A run's health for its report: ``collapsed`` (the last epoch collapsed), the epochs flagged,
    the last reason, and the last epoch's figures. Histories written before the monitors existed
    give ``collapsed`` None (not measured)."""
    measured = [h for h in history if "effective_rank" in h]
    if not measured:
        return {"collapsed": None, "reason": "no health figures in this run's history (trained before the monitors)"}
    flagged = [h["epoch"] for h in measured if h.get("collapse")]
    last = measured[-1]
    return {
        "collapsed": bool(last.get("collapse")),
        "reason": last.get("collapse"),
        "epochs_collapsed": flagged,
        "teacher_entropy": last.get("teacher_entropy"),
        "log_out_dim": last["log_out_dim"],
        "effective_rank": last["effective_rank"],
        "feature_spread": last["feature_spread"],
    }


def probe_batch(
    images, n_items: int, config: HealthConfig, size: int, normalise: str, stats: tuple[torch.Tensor, torch.Tensor] | None
) -> torch.Tensor:
    """The prepared probe (:func:`prepare_probe`, item by item: memory of one raw item) of the items
    at :func:`probe_rows` of ``images`` (indexable ``C x H x W`` items, e.g. a zarr array)."""
    rows = probe_rows(n_items, config.probe_items)  # one item at a time: a probe of whole fields never sits in memory at full size
    return torch.cat([prepare_probe(torch.from_numpy(np.asarray(images[int(i)], dtype=np.float32)[None]), size, normalise, stats) for i in rows])
