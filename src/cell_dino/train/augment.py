"""Batched, on-device multi-crop augmentations for N-channel cell images (DINO4Cells).

Every geometric step of a crop (random resized crop, horizontal and vertical flip, 90-degree
rotation, perspective or elastic warp) is one sampling grid per image, applied with a single
``grid_sample`` over the batch. Crop area and aspect ratio are sampled in pixels, as torchvision's
``RandomResizedCrop`` does, so a crop of a 640 x 512 field is not stretched.
Intensity steps follow: per-channel brightness and contrast, channel drop, intensity rescale of a
chosen channel, then per-image self-normalisation or data-set statistics. No blur, solarisation or
greyscale: they do not suit fluorescence channels.
"""

from __future__ import annotations

import math
from dataclasses import field
from typing import Literal

import torch
import torch.nn.functional as F

from cell_dino.core.config import Count, Fraction, NonNegative, NonNegativeInt, Positive, Probability, ordered_pair, settings
from cell_dino.encoders.preprocessing import self_normalise


@settings
class CropSpec:
    number: NonNegativeInt
    size: Count
    scale: tuple[Fraction, Fraction]  # (low, high) share of the image's area

    def __post_init__(self) -> None:
        ordered_pair("crop scale", self.scale)


@settings
class AugmentConfig:
    """Probabilities and magnitudes of every augmentation (the sweep pipeline tunes them)."""

    global_crops: CropSpec = field(default_factory=lambda: CropSpec(2, 224, (0.4, 1.0)))
    local_crops: CropSpec = field(default_factory=lambda: CropSpec(8, 96, (0.05, 0.4)))
    ratio: tuple[Positive, Positive] = (3 / 4, 4 / 3)
    flip_p: Probability = 0.5  # horizontal flip
    vflip_p: Probability = 0.0  # vertical flip (WS-DINO: 0.5); DINO4Cells gets it from rotate90 with flip_p
    rotate90: bool = True
    brightness_p: Probability = 0.8
    brightness: NonNegative = 0.3  # shift, in units of the channel's standard deviation
    contrast_p: Probability = 0.8
    contrast: Probability = 0.3  # factor range 1 +- contrast around the channel mean
    channel_drop_p: Probability = 0.2
    droppable_channels: tuple[str, ...] | None = None  # None: any channel may drop
    rescale_p: Probability = 0.0
    rescale_channel: str | None = None  # e.g. the protein channel in HPA
    rescale_range: tuple[Positive, Positive] = (0.5, 1.5)
    warp: Literal["none", "perspective", "elastic"] = "perspective"
    warp_p: Probability = 0.3
    warp_magnitude: NonNegative = 0.15
    normalise: Literal["self", "dataset", "none"] = "self"  # none: the stored fields are normalised already (WS-DINO)

    def __post_init__(self) -> None:
        ordered_pair("augment.ratio", self.ratio)
        ordered_pair("augment.rescale_range", self.rescale_range)
        if self.global_crops.number < 1 or self.global_crops.number + self.local_crops.number < 2:
            raise ValueError(
                "augment: at least 1 global crop and 2 crops in all are needed for the DINO loss, got "
                f"{self.global_crops.number} global and {self.local_crops.number} local"
            )


def _uniform(n: int, low: float, high: float, generator: torch.Generator, device) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator, device=device)


def _bernoulli(n: int, p: float, generator: torch.Generator, device) -> torch.Tensor:
    return torch.rand(n, generator=generator, device=device) < p


def crop_grids(batch: int, spec: CropSpec, config: AugmentConfig, generator: torch.Generator, device, aspect: float = 1.0) -> torch.Tensor:
    """``B x S x S x 2`` sampling grids: random resized crop, flips, rotation and warp per image.

    ``aspect``: the source's width / height. A crop covers ``scale`` of the source's area with a
    width / height of ``ratio`` in pixels: in the grid's normalised coordinates its half-sides are
    ``sqrt(scale * ratio / aspect)`` and ``sqrt(scale * aspect / ratio)``."""
    g, dev = generator, device
    scale = _uniform(batch, *spec.scale, g, dev)
    log_ratio = _uniform(batch, math.log(config.ratio[0]), math.log(config.ratio[1]), g, dev)
    half_w = torch.sqrt(scale * torch.exp(log_ratio) / aspect).clamp(max=1.0)
    half_h = torch.sqrt(scale * aspect / torch.exp(log_ratio)).clamp(max=1.0)
    centre_x = (1 - half_w) * _uniform(batch, -1, 1, g, dev)
    centre_y = (1 - half_h) * _uniform(batch, -1, 1, g, dev)
    quarter_turns = torch.randint(0, 4 if config.rotate90 else 1, (batch,), generator=g, device=dev)
    angle = quarter_turns * (math.pi / 2)
    flip = torch.where(_bernoulli(batch, config.flip_p, g, dev), -1.0, 1.0)
    # drawn only when on, so that runs without vertical flips keep their random stream
    vflip = torch.where(_bernoulli(batch, config.vflip_p, g, dev), -1.0, 1.0) if config.vflip_p > 0 else 1.0
    cos, sin = torch.cos(angle).round(), torch.sin(angle).round()
    affine = torch.stack(
        [
            torch.stack([half_w * cos * flip, -half_w * sin * vflip, centre_x], -1),
            torch.stack([half_h * sin * flip, half_h * cos * vflip, centre_y], -1),
        ],
        1,
    )
    grid = F.affine_grid(affine, (batch, 1, spec.size, spec.size), align_corners=False)
    warped = _bernoulli(batch, config.warp_p, g, dev)[:, None, None, None]
    if config.warp == "perspective":
        u = F.affine_grid(torch.eye(2, 3, device=dev).expand(batch, 2, 3), (batch, 1, spec.size, spec.size), align_corners=False)
        tilt = _uniform(2 * batch, -config.warp_magnitude, config.warp_magnitude, g, dev).view(batch, 1, 1, 2)
        denominator = 1 + (u * tilt).sum(-1, keepdim=True)
        grid = torch.where(warped, grid / denominator, grid)
    elif config.warp == "elastic":
        coarse = config.warp_magnitude * (2 * torch.rand(batch, 2, 4, 4, generator=g, device=dev) - 1)
        displacement = F.interpolate(coarse, size=(spec.size, spec.size), mode="bicubic", align_corners=True)
        grid = torch.where(warped, grid + displacement.permute(0, 2, 3, 1), grid)
    return grid


def channel_mask(channels: tuple[str, ...], allowed: tuple[str, ...] | None) -> torch.Tensor:
    if allowed is None:
        return torch.ones(len(channels), dtype=torch.bool)
    unknown = [c for c in allowed if c not in channels]
    if unknown:
        raise ValueError(f"augment.droppable_channels {unknown} not in the data's channels {list(channels)}")
    return torch.tensor([c in allowed for c in channels])


def augment_intensity(
    x: torch.Tensor,
    config: AugmentConfig,
    channels: tuple[str, ...],
    generator: torch.Generator,
    stats: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Per-channel brightness/contrast, channel drop, channel rescale, then normalisation."""
    b, c = x.shape[:2]
    g, dev = generator, x.device
    mean = x.mean(dim=(2, 3), keepdim=True)
    std = x.std(dim=(2, 3), keepdim=True) + 1e-6
    contrast = 1 + config.contrast * (2 * torch.rand(b, c, 1, 1, generator=g, device=dev) - 1)
    contrast = torch.where(torch.rand(b, c, 1, 1, generator=g, device=dev) < config.contrast_p, contrast, 1.0)
    shift = config.brightness * (2 * torch.rand(b, c, 1, 1, generator=g, device=dev) - 1) * std
    shift = torch.where(torch.rand(b, c, 1, 1, generator=g, device=dev) < config.brightness_p, shift, 0.0)
    x = (x - mean) * contrast + mean + shift
    if config.channel_drop_p > 0 and c > 1:
        allowed = channel_mask(channels, config.droppable_channels).to(dev)
        scores = torch.rand(b, c, generator=g, device=dev).masked_fill(~allowed, -1.0)
        drop = F.one_hot(scores.argmax(1), c).bool() & _bernoulli(b, config.channel_drop_p, g, dev)[:, None]
        x = x.masked_fill(drop[:, :, None, None], 0.0)
    if config.rescale_p > 0 and config.rescale_channel is not None:
        index = channels.index(config.rescale_channel)
        factor = _uniform(b, *config.rescale_range, g, dev)
        factor = torch.where(_bernoulli(b, config.rescale_p, g, dev), factor, 1.0)
        x[:, index] = x[:, index] * factor[:, None, None]
    if config.normalise == "self":
        return self_normalise(x)
    if config.normalise == "none":
        return x
    if stats is None:
        raise ValueError("augment.normalise is 'dataset' but no channel statistics were given")
    return (x - stats[0].view(1, c, 1, 1)) / stats[1].view(1, c, 1, 1)


def multicrop(
    global_source: torch.Tensor,
    local_source: torch.Tensor,
    config: AugmentConfig,
    channels: tuple[str, ...],
    generator: torch.Generator,
    stats: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> list[torch.Tensor]:
    """Global crops of ``global_source`` then local crops of ``local_source`` (the same images for
    DINO; another image with the same weak label for WS-DINO)."""
    crops = []
    for source, spec in ((global_source, config.global_crops), (local_source, config.local_crops)):
        for _ in range(spec.number):
            grid = crop_grids(source.shape[0], spec, config, generator, source.device, source.shape[-1] / source.shape[-2])
            view = F.grid_sample(source, grid.to(source.dtype), mode="bilinear", padding_mode="zeros", align_corners=False)
            crops.append(augment_intensity(view, config, channels, generator, stats))
    return crops
