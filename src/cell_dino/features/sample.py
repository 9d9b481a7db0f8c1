"""A sample of items with their attention maps, patch tokens, images and masks, for the explorer
and the profile pipeline (attention-channel overlap, discriminative patch tokens)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from cell_dino.features.artifacts import AttentionSample
from cell_dino.features.attention import cls_attention_and_tokens
from cell_dino.features.job import item_metadata
from cell_dino.features.model import FeatureExtractor


def sample_indices(n_items: int, n_samples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_items, size=min(n_samples, n_items), replace=False))


def item_masks(crop_store, table: pd.DataFrame, indices: np.ndarray, size: int) -> np.ndarray:
    """Nucleus and cell masks of single-cell crops, cut exactly as the crops were (centred on the
    centroid, zero beyond the field)."""
    from cell_dino.imaging.crops import crop_cells

    out = np.zeros((len(indices), 2, size, size), dtype=bool)
    for row, index in enumerate(indices):
        cell = table.iloc[[index]]
        labels = crop_cells(np.asarray(crop_store.masks[int(cell["fov_index"].iloc[0])]), np.zeros(crop_store.masks.shape[2:], int),
                            cell, size, "context")[0]  # fmt: skip
        out[row] = labels == int(cell["label"].iloc[0])
    return out


@torch.no_grad()
def attention_sample(extractor: FeatureExtractor, images, table: pd.DataFrame, indices: np.ndarray, masks: np.ndarray) -> AttentionSample:
    """Attention and patch tokens of the teacher for ``images[indices]`` (prepared as in training)."""
    raw = np.nan_to_num(np.stack([np.asarray(images[int(i)], dtype=np.float32) for i in indices]))
    x = torch.from_numpy(raw)
    if extractor.channels is not None:  # a per-channel model sees its own channel
        x = x[:, list(extractor.channels)]
    x = extractor.preprocessing(x)
    attention, tokens = cls_attention_and_tokens(extractor.backbone, x)
    items = item_metadata(table).iloc[indices].reset_index(drop=True)
    return AttentionSample(items, raw, masks, attention.numpy(), tokens.numpy().astype(np.float16))
