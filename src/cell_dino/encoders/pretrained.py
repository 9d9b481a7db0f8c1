"""Initialising N-channel backbones from RGB ImageNet DINO weights (a local file, or a timm name
where the network allows): the patch embedding is inflated with the mean of its RGB filters,
rescaled by 3 / N so that activations keep their scale."""

from __future__ import annotations

import logging
import pickle
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


def _read_weights(path: Path, parameter: str) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise FileNotFoundError(f"{parameter}: pretrained weights file {path} not found")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # e.g. DINO's full training checkpoint, which pickles its argparse arguments
        raise ValueError(
            f"{parameter}: {path} is not a file of tensors alone (a full training checkpoint, or not a torch file?); give DINO's "
            "backbone-only weights of the configured ViT (dino_deitsmall16_pretrain.pth for ViT-S/16), which load safely"
        ) from exc
    state = _backbone_state(checkpoint) if isinstance(checkpoint, dict) else {}
    if PATCH_WEIGHT not in state:
        raise ValueError(f"{parameter}: {path} holds no ViT backbone weights ({PATCH_WEIGHT} is missing: another architecture?)")
    return state


def _check_shapes(state: dict[str, torch.Tensor], own: dict[str, torch.Tensor], source: str, parameter: str) -> None:
    wrong = [f"{k} {tuple(v.shape)} (model {tuple(own[k].shape)})" for k, v in state.items() if k in own and v.shape != own[k].shape]
    if wrong:
        raise ValueError(
            f"{parameter}: weights from {source} do not fit the backbone (another patch size or width?): {'; '.join(wrong[:3])}"
        )


def load_rgb_weights(backbone: nn.Module, source: str, parameter: str = "train.init") -> None:
    """Load ``source`` (a local file, or ``timm:<name>``) into an N-channel ``backbone``; raises
    naming ``parameter`` and the file when it is absent, not plain tensors, or of another shape."""
    if source.startswith("timm:"):
        state = timm.create_model(source.removeprefix("timm:"), pretrained=True, num_classes=0).state_dict()
    else:
        state = _read_weights(Path(source), parameter)
    in_chans = backbone.patch_embed.proj.weight.shape[1]
    if state[PATCH_WEIGHT].shape[1] != in_chans:
        state[PATCH_WEIGHT] = inflate_patch_embedding(state[PATCH_WEIGHT], in_chans)
    own = backbone.state_dict()
    if "pos_embed" in state and state["pos_embed"].shape != own["pos_embed"].shape:
        grid = backbone.patch_embed.grid_size
        state["pos_embed"] = resample_abs_pos_embed(state["pos_embed"], list(grid), num_prefix_tokens=backbone.num_prefix_tokens)
    _check_shapes(state, own, source, parameter)
    missing, unexpected = backbone.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{parameter}: weights from {source} do not fit the backbone (missing {missing[:5]}, unexpected {unexpected[:5]})")
    log.info("initialised the backbone from %s (%d input channels)", source, in_chans)
