"""A sample of items with their attention maps, patch tokens, images and masks, for the explorer
and the profile pipeline (attention-channel overlap, discriminative patch tokens)."""

from __future__ import annotations

import numpy as np
import torch

from cell_dino.data.items import Items
from cell_dino.features.artifacts import AttentionSample
from cell_dino.features.attention import cls_attention_and_tokens
from cell_dino.features.job import item_metadata
from cell_dino.features.model import ConcatenatedExtractors, FeatureExtractor
from cell_dino.imaging.crops import item_masks


@torch.no_grad()
def attention_sample(extractor: FeatureExtractor | ConcatenatedExtractors, items: Items, indices: np.ndarray) -> AttentionSample:
    """Attention and patch tokens of the teacher (the first, for per-channel models) for the items
    at ``indices``, prepared as in training, with their raw images and masks."""
    first = extractor.extractors[0] if isinstance(extractor, ConcatenatedExtractors) else extractor
    raw = np.nan_to_num(np.stack([np.asarray(items.images[int(i)], dtype=np.float32) for i in indices]))
    x = torch.from_numpy(raw)
    if first.channels is not None:  # a per-channel model sees its own channel
        x = x[:, list(first.channels)]
    attention, tokens = cls_attention_and_tokens(first.backbone, first.preprocessing(x))
    metadata = item_metadata(items.table).iloc[indices].reset_index(drop=True)
    return AttentionSample(
        metadata, list(items.channels.names), raw, item_masks(items, indices), attention.numpy(), tokens.numpy().astype(np.float16)
    )
