"""OpenPhenom (Kraus et al., CVPR 2024; recursionpharma/maes_microscopy, weights
huggingface.co/recursionpharma/OpenPhenom, non-commercial licence): the encoder of Recursion's
channel-agnostic MAE, a ViT-S/16 at 256 px of parallel-scaling blocks (qk-norm, layer scale, no qkv
bias). One patch embedding is applied to each channel alone, the tokens taken channel by channel,
with fixed sin-cos positions repeated for up to 11 channels. Inputs are divided by 255 and
standardised per image and channel (``nn.InstanceNorm2d``, eps 1e-5); the embedding is the mean of
every patch token without a final norm (``MAEModel.predict``): ``B x 384`` for any channel count.

The published weights were trained with timm 0.9.7, whose parallel block adds the trained MLP bias
to the last ``mlp_hidden`` outputs of its fused projection (the end of the MLP input and q, k, v)
rather than to the MLP input (fixed in timm 1.0: pytorch-image-models #2653). The blocks here keep
0.9.7's arithmetic, with which the weights were trained."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.models.vision_transformer import ParallelScalingBlock

from cell_dino.encoders.published.model import LayoutError, PublishedModel, State, register, require_keys, strip
from cell_dino.encoders.published.vit import HEAD_DIM, depth, inputs, standardised, timm_vit

NAME = "openphenom"
PREFIX = "encoder.vit_backbone."
MAX_CHANNELS = 11  # the sin-cos positions are repeated for 11 channels
KEYS = ("cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.0.in_proj.weight", "blocks.0.mlp_bias")


class TrainedParallelBlock(ParallelScalingBlock):
    """timm's parallel-scaling block with the MLP bias where timm 0.9.7 added it."""

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None, is_causal: bool = False) -> torch.Tensor:
        b, n, width = x.shape
        bias = torch.cat((x.new_zeros(3 * width), self.mlp_bias))
        x_mlp, q, k, v = torch.split(F.linear(self.in_norm(x), self.in_proj.weight, bias), self.in_split, dim=-1)
        q = self.q_norm(q.view(b, n, self.num_heads, self.head_dim)).transpose(1, 2)
        k = self.k_norm(k.view(b, n, self.num_heads, self.head_dim)).transpose(1, 2)
        v = v.view(b, n, self.num_heads, self.head_dim).transpose(1, 2)
        x_attn = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, width)
        return x + self.ls(self.attn_out_proj(x_attn) + self.mlp_out_proj(self.mlp_act(x_mlp)))


class OpenPhenomNetwork(nn.Module):
    def __init__(self, network: Mapping[str, Any], in_chans: int) -> None:
        super().__init__()
        self.n_channels = in_chans
        if in_chans > MAX_CHANNELS:
            raise ValueError(f"{NAME} takes at most {MAX_CHANNELS} channels, got {in_chans}")
        options = {"block_fn": TrainedParallelBlock, "qkv_bias": False, "qk_norm": True, "init_values": 1e-4}
        self.vit = timm_vit(network, 1, **options, global_pool="avg", fc_norm=None, pos_embed="none")
        tokens = 1 + MAX_CHANNELS * (network["img_size"] // network["patch_size"]) ** 2
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, network["embed_dim"]), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        x = standardised(inputs(x, self.n_channels) / 255.0, 1e-5, of_variance=True)
        patches = self.vit.patch_embed(x.reshape(b * c, 1, *x.shape[2:]))
        tokens = torch.cat([self.vit.cls_token.expand(b, -1, -1), patches.reshape(b, -1, patches.shape[-1])], dim=1)
        tokens = self.vit.norm(self.vit.blocks(tokens + self.pos_embed[:, : tokens.shape[1]]))
        return tokens[:, 1:].mean(dim=1)


def read(saved: Mapping[str, Any]) -> tuple[dict[str, Any], State]:
    nested = saved.get("state_dict", saved)
    state = {k.removeprefix(PREFIX): v for k, v in strip(nested, ("module.",)).items() if k.startswith(PREFIX)}
    require_keys(state, KEYS, NAME)
    width, patch = state["cls_token"].shape[-1], state["patch_embed.proj.weight"].shape[-1]
    per_channel, rest = divmod(state["pos_embed"].shape[1] - 1, MAX_CHANNELS)
    side = round(per_channel**0.5)
    if rest or side * side != per_channel:
        raise LayoutError(f"position embedding of {state['pos_embed'].shape[1]} tokens is not 1 + {MAX_CHANNELS} channels x a square grid")
    mlp = state["blocks.0.mlp_bias"].shape[0]
    network = {
        "embed_dim": width,
        "depth": depth(state),
        "num_heads": max(1, width // HEAD_DIM),
        "patch_size": patch,
        "in_chans": 1,
        "img_size": side * patch,
        "mlp_ratio": mlp / width,
    }
    weights = {("pos_embed" if k == "pos_embed" else f"vit.{k}"): v for k, v in state.items()}
    return network, weights


MODEL = register(PublishedModel(NAME, read, OpenPhenomNetwork, lambda network: network["img_size"]))
