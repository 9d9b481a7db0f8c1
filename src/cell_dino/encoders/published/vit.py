"""What the published models share: a timm ViT sized from a state dict, their per-image input
standardisations, and bag-of-channels features (one single-channel network per channel)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import torch
import torch.nn as nn
from timm.models.vision_transformer import VisionTransformer

HEAD_DIM = 64  # every published ViT here has 64-dimensional heads (ViT-Ti 3, S 6, B 12, L 16 heads)


def depth(state: Mapping[str, torch.Tensor]) -> int:
    """The number of blocks of timm-layout weights (``blocks.<i>.*``)."""
    return len({k.split(".")[1] for k in state if k.startswith("blocks.")})


def vit_settings(state: Mapping[str, torch.Tensor], pos_embed: str = "pos_embed") -> dict[str, Any]:
    """A ViT's settings from its timm-layout weights: width, depth, patch size, input channels,
    side (from the position embedding's grid), MLP ratio, heads (:data:`HEAD_DIM` each)."""
    width = state["cls_token"].shape[-1]
    patch = state["patch_embed.proj.weight"]
    grid = math.isqrt(state[pos_embed].shape[1] - 1)
    return {
        "embed_dim": width,
        "depth": depth(state),
        "num_heads": max(1, width // HEAD_DIM),
        "patch_size": patch.shape[-1],
        "in_chans": patch.shape[1],
        "img_size": grid * patch.shape[-1],
        "mlp_ratio": state["blocks.0.mlp.fc1.weight"].shape[0] / width if "blocks.0.mlp.fc1.weight" in state else 4.0,
    }


def timm_vit(network: Mapping[str, Any], in_chans: int, **options: Any) -> VisionTransformer:
    """A timm ViT of ``network``'s settings (``norm_eps``: its LayerNorms' epsilon, 1e-6 unless
    given), with no pooling or head: ``forward_features`` gives every token after the final norm."""
    return VisionTransformer(
        img_size=network["img_size"],
        patch_size=network["patch_size"],
        in_chans=in_chans,
        embed_dim=network["embed_dim"],
        depth=network["depth"],
        num_heads=network["num_heads"],
        mlp_ratio=network["mlp_ratio"],
        norm_layer=partial(nn.LayerNorm, eps=network.get("norm_eps", 1e-6)),
        num_classes=0,
        **({"global_pool": "", "qkv_bias": True} | options),
    )


def inputs(x: torch.Tensor, n_channels: int) -> torch.Tensor:
    """``B x C x H x W`` images as float32, raising ValueError unless ``C`` is the encoder's
    ``n_channels`` (the channels it was declared with, selected by name before)."""
    if x.ndim != 4 or x.shape[1] != n_channels:
        raise ValueError(f"the encoder takes B x {n_channels} x H x W images (its declared channels), got {tuple(x.shape)}")
    return x.float()


def standardised(x: torch.Tensor, eps: float, of_variance: bool = False) -> torch.Tensor:
    """Each image and channel of ``B x C x H x W`` centred and divided by its biased standard
    deviation plus ``eps`` (DINO4Cells' and Cell-DINO's ``self_normalize``), or by the square root
    of its biased variance plus ``eps`` (``of_variance``: ``nn.InstanceNorm2d``, MorphEm, OpenPhenom)."""
    centred = x - x.mean(dim=(2, 3), keepdim=True)
    variance = centred.pow(2).mean(dim=(2, 3), keepdim=True)
    return centred / (torch.sqrt(variance + eps) if of_variance else variance.sqrt() + eps)


def per_channel(features: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Bag of channels: ``features`` of each channel of ``B x C x H x W`` alone (``B C x 1 x H x W``),
    concatenated in channel order: ``B x C D``."""
    b, c = x.shape[:2]
    each = features(x.reshape(b * c, 1, *x.shape[2:]))
    return each.reshape(b, c * each.shape[-1])  # (0 x C D for no images)


def without(state: Mapping[str, torch.Tensor], *prefixes: str) -> dict[str, torch.Tensor]:
    """``state`` without the keys that start with any of ``prefixes`` (heads, decoders, masks)."""
    return {k: v for k, v in state.items() if not k.startswith(prefixes)}


def under(state: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The keys of ``state`` under ``prefix`` (a submodule's entries), ``prefix`` added."""
    return {f"{prefix}{k}": v for k, v in state.items()}
