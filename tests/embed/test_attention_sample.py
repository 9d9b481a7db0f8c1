"""The attention sample of whole fields: every channel model's heads, named, at the field's own
patch grid, with images and masks cut to that grid so maps and pixels align."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from cell_dino.data.channels import ChannelSpec, ChannelStats
from cell_dino.data.items import Items
from cell_dino.embed.model import ConcatenatedExtractors, FeatureConfig, FeatureExtractor
from cell_dino.embed.sample import attention_sample
from cell_dino.encoders.backbone import BackboneConfig, create_backbone
from cell_dino.encoders.preprocessing import Preprocessing


def _channel_model(channel: int) -> FeatureExtractor:
    torch.manual_seed(channel)
    backbone = create_backbone(BackboneConfig("vit_tiny", 8, 16, 0.0, depth=1), 1).eval()
    return FeatureExtractor(backbone, Preprocessing("self", None, None, 16), FeatureConfig(), channels=[channel])


def test_per_channel_fields_keep_every_models_heads_on_the_cropped_patch_grid() -> None:
    fields = np.random.default_rng(0).random((3, 2, 21, 30)).astype(np.float32)  # 21 x 30: not multiples of the patch (8)
    table = pd.DataFrame({"Metadata_FOV": ["a", "b", "c"], "Metadata_Index": [0, 1, 2]})
    stats = ChannelStats(["DNA", "Actin"], [0.0] * 2, [1.0] * 2, [0.0] * 2, [0.0] * 2, [1.0] * 2, [1.0] * 2, 100)
    items = Items("fov", fields, table, ChannelSpec(("DNA", "Actin")), stats, "g")
    sample = attention_sample(ConcatenatedExtractors([_channel_model(0), _channel_model(1)]), items, np.array([0, 2]))
    heads = 3  # ViT-Ti
    assert sample.attention.shape == (2, 2 * heads, 2, 3)  # a 2 x 3 patch grid: 16 x 24 pixels of each field
    assert sample.images.shape == (2, 2, 16, 24) and sample.masks.shape == (2, 2, 16, 24)
    np.testing.assert_array_equal(sample.images, fields[[0, 2], :, :16, :24])
    assert sample.heads == ["DNA head 0", "DNA head 1", "DNA head 2", "Actin head 0", "Actin head 1", "Actin head 2"]
    assert sample.tokens.shape == (2, 2, 3, 2 * 192)  # patch tokens of both models, concatenated
    assert not np.allclose(sample.attention[:, :heads], sample.attention[:, heads:])  # each model its own maps
