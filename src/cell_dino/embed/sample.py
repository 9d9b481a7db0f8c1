"""A sample of items with their attention maps, patch tokens, images and masks, for the explorer
and the profile pipeline (attention-channel overlap, discriminative patch tokens).

Every model of a run contributes: a per-channel run (WS-DINO) gives each channel model's heads,
named after its channel, and its patch tokens concatenated as its features are. Whole fields are
seen at their own resolution (the ViT interpolates its position embedding), so the maps cover the
field, not a resized copy; cells are prepared as in training.
"""

from __future__ import annotations

import numpy as np
import torch

from cell_dino.data.items import Items
from cell_dino.embed.artifacts import AttentionSample
from cell_dino.embed.attention_maps import cls_attention_and_tokens
from cell_dino.embed.embedding_job import item_metadata
from cell_dino.embed.model import ConcatenatedExtractors, FeatureExtractor
from cell_dino.segment.crops import item_masks

CELL_BATCH = 64


def _model_maps(extractor: FeatureExtractor, x: torch.Tensor, native: bool) -> tuple[torch.Tensor, torch.Tensor]:
    if extractor.channels is not None:  # a per-channel model sees its own channel
        x = x[:, list(extractor.channels)]
    x = extractor.preprocessing.normalise_only(x) if native else extractor.preprocessing(x)
    return cls_attention_and_tokens(extractor.backbone, x)


def head_names(extractor: FeatureExtractor | ConcatenatedExtractors, channels: tuple[str, ...]) -> list[str]:
    """``head i`` for one model; ``<channel> head i`` for each model of a per-channel run."""
    if not isinstance(extractor, ConcatenatedExtractors):
        return [f"head {h}" for h in range(extractor.backbone.blocks[-1].attn.num_heads)]
    return [f"{channels[e.channels[0]]} head {h}" for e in extractor.extractors for h in range(e.backbone.blocks[-1].attn.num_heads)]


@torch.no_grad()
def attention_sample(extractor: FeatureExtractor | ConcatenatedExtractors, items: Items, indices: np.ndarray) -> AttentionSample:
    """Last-block CLS attention of every model of the run (``n x heads x h x w``, heads of the
    models in order) and their patch tokens (``n x h x w x D``, concatenated over models) for the
    items at ``indices`` (fields one at a time: their attention grows with the square of their
    area), with their raw images and masks."""
    models = list(extractor.extractors) if isinstance(extractor, ConcatenatedExtractors) else [extractor]
    raw = np.nan_to_num(np.stack([np.asarray(items.images[int(i)], dtype=np.float32) for i in indices]))
    masks = item_masks(items, indices)
    native = items.unit == "fov"
    if native:  # the field's patch grid: a last partial row or column of pixels is left out of images, masks and maps alike
        h, w = (size // patch * patch for size, patch in zip(raw.shape[-2:], models[0].backbone.patch_embed.patch_size, strict=True))
        raw, masks = raw[..., :h, :w], masks[..., :h, :w]
    attention, tokens = [], []
    for batch in torch.from_numpy(raw).split(1 if native else CELL_BATCH):
        maps = [_model_maps(m, batch, native) for m in models]
        attention.append(torch.cat([a for a, _ in maps], dim=1))
        tokens.append(torch.cat([t for _, t in maps], dim=-1))
    metadata = item_metadata(items.table).iloc[indices].reset_index(drop=True)
    return AttentionSample(
        metadata,
        list(items.channels.names),
        raw,
        masks,
        torch.cat(attention).numpy(),
        torch.cat(tokens).numpy().astype(np.float16),
        head_names(extractor, tuple(items.channels.names)),
    )
