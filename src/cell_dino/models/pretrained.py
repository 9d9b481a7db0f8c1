"""Initialising N-channel backbones from RGB ImageNet DINO weights (a local file, or a timm name
where the network allows): the patch embedding is inflated with the mean of its RGB filters,
rescaled by 3 / N so that activations keep their scale."""

from __future__ import annotations

import logging
from pathlib import Path

import timm
import torch
import torch.nn as nn
from timm.layers import resample_abs_pos_embed

log = logging.getLogger(__name__)
PATCH_WEIGHT = "patch_embed.proj.weight"


def inflate_patch_embedding(weight: torch.Tensor, in_chans: int) -> torch.Tensor:
    """``D x 3 x p x p`` RGB filters -> ``D x in_chans x p x p``."""
    mean = weight.mean(dim=1, keepdim=True)
    return mean.repeat(1, in_chans, 1, 1) * (3.0 / in_chans)


def _backbone_state(checkpoint: dict) -> dict[str, torch.Tensor]:
    state = checkpoint.get("teacher", checkpoint.get("state_dict", checkpoint))
    cleaned = {}
    for key, value in state.items():
        for prefix in ("module.", "backbone."):
            key = key.removeprefix(prefix)
        if not key.startswith("head."):
            cleaned[key] = value
    return cleaned


def load_rgb_weights(backbone: nn.Module, source: str) -> None:
    """Load ``source`` (a checkpoint path, or ``timm:<name>``) into an N-channel ``backbone``."""
    if source.startswith("timm:"):
        state = timm.create_model(source.removeprefix("timm:"), pretrained=True, num_classes=0).state_dict()
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"init: pretrained weights {path} not found")
        state = _backbone_state(torch.load(path, map_location="cpu", weights_only=True))
    in_chans = backbone.patch_embed.proj.weight.shape[1]
    if state[PATCH_WEIGHT].shape[1] != in_chans:
        state[PATCH_WEIGHT] = inflate_patch_embedding(state[PATCH_WEIGHT], in_chans)
    own = backbone.state_dict()
    if "pos_embed" in state and state["pos_embed"].shape != own["pos_embed"].shape:
        grid = backbone.patch_embed.grid_size
        state["pos_embed"] = resample_abs_pos_embed(state["pos_embed"], list(grid), num_prefix_tokens=backbone.num_prefix_tokens)
    missing, unexpected = backbone.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"init: weights from {source} do not fit the backbone (missing {missing[:5]}, unexpected {unexpected[:5]})")
    log.info("initialised the backbone from %s (%d input channels)", source, in_chans)
