"""DINO4Cells' released checkpoints (Doron et al. 2023; broadinstitute/DINO4Cells_code, Zenodo
8061392 / 8061426 / 8061424 / 8061428): DINO's ViT with N input channels. The file is a DINO
training checkpoint; its ``teacher`` holds ``backbone.*`` (and the DINO head, left out). The embedding
is the CLS token after the final norm (``run_get_features.py``) of the image standardised per
channel by ``self_normalize``: ``(x - mean) / (std + 1e-7)``, the biased std. The network runs at
the side it was trained at (inputs are resized to it: DINO's position interpolation is not used)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn as nn

from cell_dino.encoders.published.model import PublishedModel, State, register, require_keys, strip
from cell_dino.encoders.published.vit import inputs, standardised, timm_vit, under, vit_settings, without

NAME = "dino4cells"
KEYS = ("cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "norm.weight")


class DINO4CellsNetwork(nn.Module):
    def __init__(self, network: Mapping[str, Any], in_chans: int) -> None:
        super().__init__()
        self.vit, self.n_channels = timm_vit(network, in_chans), in_chans

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit.forward_features(standardised(inputs(x, self.n_channels), 1e-7))[:, 0]


def read(saved: Mapping[str, Any]) -> tuple[dict[str, Any], State]:
    state = without(strip(saved.get("teacher", saved), ("module.", "backbone.")), "head.")
    require_keys(state, KEYS, NAME)
    return vit_settings(state), under(state, "vit.")


MODEL = register(PublishedModel(NAME, read, DINO4CellsNetwork, lambda network: network["img_size"]))
