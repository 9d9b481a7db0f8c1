"""SubCell (Gupta et al. 2024; CellProfiling/subcell-embed and SubCellPortable, weights on the CZI
public bucket ``czi-subcell-public/models``, MIT): a ViT-B/16 at 448 px (LayerNorm eps 1e-12, the
Hugging Face ViT layout) and a gated attention pooling of 2 heads over every token after the final
norm (CLS included): ``B x 1536``. Inputs: the HPA channel sets in the order r, y, b, g (``rybg``:
microtubules, ER, nucleus, protein; ``rbg``, ``ybg``, ``bg``), min-max scaled over the whole crop,
every channel together (``inference.py``'s ``min_max_standardize``). The reference runs other sides
by interpolating the positions; here inputs are resized to 448."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from cell_dino.encoders.published.model import PublishedModel, State, register, require_keys, strip
from cell_dino.encoders.published.vit import inputs, timm_vit, vit_settings

NAME = "subcell"
HF = "encoder."
LAYER = {
    "layernorm_before": "norm1",
    "layernorm_after": "norm2",
    "attention.output.dense": "attn.proj",
    "intermediate.dense": "mlp.fc1",
    "output.dense": "mlp.fc2",
}
POOL = {"attention_v.1.": "attention_v.", "attention_u.1.": "attention_u.", "attention.": "attention."}


class GatedAttentionPool(nn.Module):
    """Gated attention pooling: ``heads`` softmax weightings of the tokens, ``B x heads D``."""

    def __init__(self, dim: int, hidden: int, heads: int) -> None:
        super().__init__()
        self.attention_v, self.attention_u, self.attention = nn.Linear(dim, hidden), nn.Linear(dim, hidden), nn.Linear(hidden, heads)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        gate = torch.tanh(self.attention_v(tokens)) * F.gelu(self.attention_u(tokens))
        weights = self.attention(gate).transpose(1, 2).softmax(dim=-1)
        return torch.bmm(weights, tokens).flatten(1)


class SubCellNetwork(nn.Module):
    def __init__(self, network: Mapping[str, Any], in_chans: int) -> None:
        super().__init__()
        self.vit, self.n_channels = timm_vit({**network, "norm_eps": 1e-12}, in_chans), in_chans
        self.pool = GatedAttentionPool(network["embed_dim"], network["pool_hidden"], network["pool_heads"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = inputs(x, self.n_channels)
        low, high = x.amin(dim=(1, 2, 3), keepdim=True), x.amax(dim=(1, 2, 3), keepdim=True)
        return self.pool(self.vit.forward_features((x - low) / (high - low + 1e-6)))


def _timm_key(key: str) -> str | None:
    if key.startswith("embeddings."):
        return {
            "embeddings.cls_token": "cls_token",
            "embeddings.position_embeddings": "pos_embed",
            "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
            "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
        }.get(key)
    if key.startswith("layernorm."):
        return key.replace("layernorm.", "norm.")
    if key.startswith("encoder.layer."):
        index, rest = key.removeprefix("encoder.layer.").split(".", 1)
        for hf, timm in LAYER.items():
            if rest.startswith(hf + "."):
                return f"blocks.{index}.{timm}{rest.removeprefix(hf)}"
    return None


def read(saved: Mapping[str, Any]) -> tuple[dict[str, Any], State]:
    flat = strip(saved, ("module.",))
    require_keys(flat, ("encoder.embeddings.cls_token", "encoder.layernorm.weight", "pool_model.attention.weight"), NAME)
    encoder = {k.removeprefix(HF): v for k, v in flat.items() if k.startswith(HF)}
    state = {t: v for k, v in encoder.items() if (t := _timm_key(k)) is not None}
    for i in {k.split(".")[2] for k in encoder if k.startswith("encoder.layer.")}:
        parts = [f"encoder.layer.{i}.attention.attention.{p}" for p in ("query", "key", "value")]
        for kind in ("weight", "bias"):
            state[f"blocks.{i}.attn.qkv.{kind}"] = torch.cat([encoder[f"{p}.{kind}"] for p in parts])
    pool = {}
    for key, value in flat.items():
        for published, own in POOL.items():
            if key.startswith("pool_model." + published):
                pool["pool." + own + key.removeprefix("pool_model." + published)] = value
                break
    network = vit_settings(state) | {
        "pool_hidden": pool["pool.attention_v.weight"].shape[0],
        "pool_heads": pool["pool.attention.weight"].shape[0],
    }
    return network, {**{f"vit.{k}": v for k, v in state.items()}, **pool}


MODEL = register(PublishedModel(NAME, read, SubCellNetwork, lambda network: network["img_size"]))
