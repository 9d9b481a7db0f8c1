"""Cell-DINO and Channel-Adaptive DINO (facebookresearch/dinov2, ``dinov2/hub/cell_dino``; weights
by request from Meta, FAIR Noncommercial Research License): DINOv2 ViTs with layer scale, their
blocks saved in 4 chunks (``blocks.<chunk>.<i>.*``). Inputs are divided by 255 and standardised per
image and channel, ``(x - mean) / (std + 1e-7)`` with the biased std (``dinov2/data/cell_dino/
transforms.py``); the embedding is the CLS token after the final norm. The channel-adaptive model
(``channel_adaptive_dino_vitl16``, one input channel) is a bag of channels: each channel alone,
CLS tokens concatenated in channel order (``get_intermediate_layers`` with ``bag_of_channels``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn as nn

from cell_dino.encoders.published.model import PublishedModel, State, register, require_keys, strip
from cell_dino.encoders.published.vit import inputs, per_channel, standardised, timm_vit, under, vit_settings, without

NAME = "celldino"
KEYS = ("cls_token", "pos_embed", "patch_embed.proj.weight", "norm.weight")
CHUNKED = re.compile(r"^blocks\.\d+\.(\d+)\.")


class CellDINONetwork(nn.Module):
    def __init__(self, network: Mapping[str, Any], in_chans: int) -> None:
        super().__init__()
        self.bag_of_channels, self.n_channels = network["in_chans"] == 1, in_chans
        self.vit = timm_vit(network, 1 if self.bag_of_channels else in_chans, init_values=1.0)

    def cls(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit.forward_features(standardised(x / 255.0, 1e-7))[:, 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = inputs(x, self.n_channels)
        return per_channel(self.cls, x) if self.bag_of_channels else self.cls(x)


def read(saved: Mapping[str, Any]) -> tuple[dict[str, Any], State]:
    state = without(strip(saved.get("teacher", saved), ("module.", "backbone.")), "mask_token", "dino_head.", "ibot_head.")
    state = {CHUNKED.sub(r"blocks.\1.", k): v for k, v in state.items()}
    require_keys(state, (*KEYS, "blocks.0.ls1.gamma"), NAME)
    return vit_settings(state), under(state, "vit.")


MODEL = register(PublishedModel(NAME, read, CellDINONetwork, lambda network: network["img_size"]))
