"""MorphEm (CHAMMI-75, Agrawal et al., ICLR 2026; CaicedoLab/CHAMMI-75, weights
huggingface.co/CaicedoLab/MorphEm, MIT): a ViT-S/16 trained by DINO on single channels, "bag of
channels". Each channel goes through the same network alone, standardised per image as
``nn.InstanceNorm2d`` does (``(x - mean) / sqrt(var + 1e-7)``), and the CLS tokens after the final
norm are concatenated in channel order (``benchmarks/models.py``'s ``MorphEm``): ``B x 384 C``.
The reference resizes to 224 after standardising; here inputs are resized to 224 first (equal at
224 px inputs). The reference's saturation-noise injector (first channel's pixels equal to 255
replaced by noise) is random and not reproduced."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn as nn

from cell_dino.encoders.published.model import LayoutError, PublishedModel, State, register, require_keys, strip
from cell_dino.encoders.published.vit import inputs, per_channel, standardised, timm_vit, under, vit_settings

NAME = "morphem"
KEYS = ("cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "norm.weight")


class MorphEmNetwork(nn.Module):
    def __init__(self, network: Mapping[str, Any], in_chans: int) -> None:
        super().__init__()
        self.vit, self.n_channels = timm_vit(network, 1), in_chans

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return per_channel(lambda one: self.vit.forward_features(standardised(one, 1e-7, of_variance=True))[:, 0], inputs(x, self.n_channels))


def read(saved: Mapping[str, Any]) -> tuple[dict[str, Any], State]:
    state = strip(saved, ("module.", "model.", "backbone."))
    require_keys(state, KEYS, NAME)
    if state["patch_embed.proj.weight"].shape[1] != 1:
        raise LayoutError(f"not a {NAME} weights file: its patch embedding takes {state['patch_embed.proj.weight'].shape[1]} channels, not 1")
    return vit_settings(state), under(state, "vit.")


MODEL = register(PublishedModel(NAME, read, MorphEmNetwork, lambda network: network["img_size"]))
