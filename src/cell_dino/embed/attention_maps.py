"""Last-block CLS attention per head and patch tokens of a timm ViT.

timm's fused attention never materialises the attention weights, so the last block is switched to
its explicit path for the call and the weights are read with a forward hook on that block's
``attn_drop`` (identity at eval, applied to the softmaxed weights).
"""

from __future__ import annotations

import torch
import torch.nn as nn


@torch.no_grad()
def cls_attention_and_tokens(backbone: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``B x heads x h x w`` CLS-to-patch attention of the last block (each row sums to 1 over
    all tokens, prefix tokens included) and ``B x h x w x D`` patch tokens after the final norm."""
    attention = backbone.blocks[-1].attn
    captured: list[torch.Tensor] = []
    handle = attention.attn_drop.register_forward_hook(lambda _module, _inputs, output: captured.append(output))
    fused = attention.fused_attn
    attention.fused_attn = False
    try:
        tokens = backbone.forward_features(x)
    finally:
        attention.fused_attn = fused
        handle.remove()
    prefix = backbone.num_prefix_tokens
    patch_h, patch_w = backbone.patch_embed.patch_size
    h, w = x.shape[-2] // patch_h, x.shape[-1] // patch_w
    cls = captured[0][:, :, 0, prefix:].reshape(x.shape[0], -1, h, w)
    return cls.float(), tokens[:, prefix:].reshape(x.shape[0], h, w, -1).float()
