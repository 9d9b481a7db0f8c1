"""Feature extraction: attention against a manual computation, test-time crops, preprocessing,
per-channel concatenation, the RGB baseline, and resumable sharded embedding jobs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from cell_dino.embed.artifacts import read_embeddings
from cell_dino.embed.attention_maps import cls_attention_and_tokens
from cell_dino.embed.embedding_job import EmbeddingJob
from cell_dino.embed.model import (
    ConcatenatedExtractors,
    FeatureConfig,
    FeatureExtractor,
    centre_crops,
    greyscale_rgb_extractor,
    pooled,
)
from cell_dino.encoders.backbone import BackboneConfig, create_backbone
from cell_dino.encoders.preprocessing import Preprocessing

TINY = BackboneConfig(arch="vit_tiny", patch_size=8, img_size=32, depth=2, drop_path_rate=0.0)


def _backbone(channels: int = 3, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return create_backbone(TINY, channels).eval()


def test_cls_attention_equals_a_manual_softmax_of_the_last_block() -> None:
    backbone = _backbone()
    x = torch.randn(2, 3, 32, 32)
    captured = {}
    handle = backbone.blocks[-1].register_forward_pre_hook(lambda _m, inputs: captured.setdefault("x", inputs[0]))
    backbone(x)
    handle.remove()
    attention = backbone.blocks[-1].attn
    y = backbone.blocks[-1].norm1(captured["x"])
    q, k, _ = attention.qkv(y).reshape(2, 17, 3, attention.num_heads, attention.head_dim).permute(2, 0, 3, 1, 4)
    expected = ((q * attention.scale) @ k.transpose(-2, -1)).softmax(-1)[:, :, 0, 1:].reshape(2, -1, 4, 4)
    maps, tokens = cls_attention_and_tokens(backbone, x)
    torch.testing.assert_close(maps, expected, atol=1e-5, rtol=1e-4)
    assert attention.fused_attn, "the fused path must be restored"
    torch.testing.assert_close(tokens, backbone.forward_features(x)[:, 1:].reshape(2, 4, 4, -1))


def test_pooling_options_read_the_right_tokens() -> None:
    backbone = _backbone()
    x = torch.randn(2, 3, 32, 32)
    tokens = backbone.forward_features(x)
    torch.testing.assert_close(pooled(backbone, x, FeatureConfig("cls")), tokens[:, 0])
    torch.testing.assert_close(pooled(backbone, x, FeatureConfig("patch_mean")), tokens[:, 1:].mean(1))
    last2 = pooled(backbone, x, FeatureConfig(layers=(-1, -2)))  # in block order, whatever order they are named in
    assert last2.shape == (2, 2 * 192)
    torch.testing.assert_close(last2[:, 192:], tokens[:, 0])  # the last block's CLS, after the final norm
    first = backbone.blocks[0](backbone._pos_embed(backbone.patch_embed(x)))  # block 0 by hand, then the final norm
    torch.testing.assert_close(pooled(backbone, x, FeatureConfig(layers=(0,))), backbone.norm(first)[:, 0])
    with pytest.raises(ValueError, match=r"embed\.features\.layers \[5\]: block\(s\) \[5\] outside a network of 2 blocks"):
        pooled(backbone, x, FeatureConfig(layers=(5,)))
    with pytest.raises(ValueError, match="pooling must be cls"):
        FeatureConfig("patch_mean", layers=(-1,))


def test_centre_crops_meet_at_the_centre_and_test_time_features_are_their_median() -> None:
    x = torch.arange(2 * 1 * 8 * 8, dtype=torch.float32).reshape(2, 1, 8, 8)
    crops = centre_crops(x, 4)
    assert crops.shape == (4, 2, 1, 4, 4)
    torch.testing.assert_close(crops[3], x[..., 4:, 4:])
    assert centre_crops(x, 16).shape == (4, 2, 1, 4, 4)  # a field smaller than 2 crops: the largest that fit
    wide = torch.arange(8 * 12, dtype=torch.float32).reshape(1, 1, 8, 12)
    quadrants = centre_crops(wide, 2, "half")
    assert quadrants.shape == (4, 1, 1, 4, 6)
    torch.testing.assert_close(quadrants[1], wide[..., :4, 6:])
    backbone = _backbone(1)
    prep = Preprocessing("self", None, None, 32)
    fields = torch.randn(3, 1, 64, 64)
    with_crops = FeatureExtractor(backbone, prep, FeatureConfig(test_time_crops=True))(fields)
    single = FeatureExtractor(backbone, prep, FeatureConfig())
    expected = torch.stack([single(c) for c in centre_crops(fields, 32)]).median(dim=0).values
    torch.testing.assert_close(with_crops, expected)


def test_test_time_crops_of_a_bbbc021_field_are_native_224_crops_of_its_centre_448() -> None:
    field = torch.zeros(1, 1, 512, 640)
    field[..., 32:480, 96:544] = 1.0  # the centre 448 x 448 of a 640 x 512 field
    crops = centre_crops(field, 224)
    assert crops.shape == (4, 1, 1, 224, 224)
    assert bool((crops == 1.0).all())  # every crop lies inside the centre square, at native resolution
    assert float(crops.sum()) == float(field.sum())  # and together they cover all of it


def test_preprocessing_normalises_like_training_and_resizes_to_the_global_crop() -> None:
    x = torch.rand(2, 2, 48, 48) * 100
    prep = Preprocessing("dataset", torch.tensor([10.0, 20.0]).view(1, 2, 1, 1), torch.tensor([2.0, 4.0]).view(1, 2, 1, 1), 32)
    out = prep(x)
    expected = F.interpolate(
        (x - torch.tensor([10.0, 20.0]).view(1, 2, 1, 1)) / torch.tensor([2.0, 4.0]).view(1, 2, 1, 1),
        size=(32, 32),
        mode="bilinear",
        antialias=True,
        align_corners=False,
    )
    torch.testing.assert_close(out, expected)
    selfed = Preprocessing("self", None, None, 48)(x)
    torch.testing.assert_close(selfed.mean(dim=(2, 3)), torch.zeros(2, 2), atol=1e-4, rtol=0)


def test_per_channel_models_concatenate_then_l2_normalise() -> None:
    prep = Preprocessing("self", None, None, 32)
    extractors = [FeatureExtractor(_backbone(1, seed=c), prep, FeatureConfig(), channels=[c]) for c in range(3)]
    x = torch.randn(4, 3, 32, 32)
    out = ConcatenatedExtractors(extractors)(x)
    expected = F.normalize(torch.cat([e(x) for e in extractors], dim=1), dim=1)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(4))


def test_greyscale_rgb_baseline_feeds_each_channel_as_grey_rgb(tmp_path: Path) -> None:
    rgb = create_backbone(TINY, 3)
    weights = tmp_path / "dino_rgb.pth"
    torch.save(rgb.state_dict(), weights)
    extractor = greyscale_rgb_extractor(str(weights), TINY, 32, FeatureConfig())
    x = torch.randn(2, 4, 32, 32)
    out = extractor(x)
    assert out.shape == (2, 4 * 192)
    rgb.eval()
    grey = Preprocessing("self", None, None, 32)(x)[:, 2:3].expand(-1, 3, -1, -1)
    torch.testing.assert_close(out[:, 2 * 192 : 3 * 192], rgb.forward_features(grey)[:, 0])


class _FailingAfter(torch.nn.Module):
    """Wraps an extractor and raises after ``limit`` calls (a crash mid-run)."""

    def __init__(self, inner: torch.nn.Module, limit: int) -> None:
        super().__init__()
        self.inner, self.limit, self.calls = inner, limit, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > self.limit:
            raise RuntimeError("killed")
        return self.inner(x)


def test_embedding_job_resumes_by_shard_and_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    images = np.random.default_rng(0).normal(size=(40, 3, 32, 32)).astype(np.float32)
    table = pd.DataFrame({"Metadata_Plate": ["p"] * 40, "Metadata_Well": [f"A{i % 4:02d}" for i in range(40)], "other": range(40)})
    extractor = FeatureExtractor(_backbone(), Preprocessing("self", None, None, 32), FeatureConfig())
    EmbeddingJob(extractor, images, table, {"run": 1}, batch_size=8, shard_size=16, precision="fp32").run(tmp_path / "ref")
    failing = _FailingAfter(extractor, limit=3)  # two batches of shard 0, one of shard 1
    target = tmp_path / "embeddings"
    with pytest.raises(RuntimeError, match="killed"):
        EmbeddingJob(failing, images, table, {"run": 1}, batch_size=8, shard_size=16, precision="fp32").run(target)
    assert not target.exists() and [p.name for p in (tmp_path / ".embeddings.parts").glob("part-*")] == ["part-00000.parquet"]
    counting = _FailingAfter(extractor, limit=10**6)
    job = EmbeddingJob(counting, images, table, {"run": 1}, batch_size=8, shard_size=16, precision="fp32")
    job.run(target)
    assert counting.calls == 3 and job.report["n_embedded_now"] == 24  # shard 0 was not redone
    resumed, expected = read_embeddings(target), read_embeddings(tmp_path / "ref")
    assert "other" not in resumed and resumed["Metadata_Index"].tolist() == list(range(40))
    pd.testing.assert_frame_equal(resumed, expected)
    assert resumed.attrs["embedding"]["n_items"] == 40


def test_embedding_job_refuses_mismatched_table_and_shard_size() -> None:
    extractor = FeatureExtractor(_backbone(), Preprocessing("self", None, None, 32), FeatureConfig())
    images = np.zeros((4, 3, 32, 32), np.float32)
    with pytest.raises(ValueError, match="3 table rows for 4 images"):
        EmbeddingJob(extractor, images, pd.DataFrame({"a": range(3)}), {})
    with pytest.raises(ValueError, match="shard_size 10 must be a multiple of batch_size 4"):
        EmbeddingJob(extractor, images, pd.DataFrame({"a": range(4)}), {}, batch_size=4, shard_size=10)


def test_a_resumed_embedding_never_reuses_shards_of_another_model_or_store(tmp_path: Path) -> None:
    """Killed after some shards, retrained with another seed, re-run: rows 0-255 came from the
    old model. The job's fingerprint now holds the checkpoint file's identity, the store's
    generation, the device and the precision: any change starts the job afresh."""
    from cell_dino.core.executor import ExecutorConfig
    from cell_dino.data.items import Items
    from cell_dino.pipelines.embed.nodes import plan_embedding
    from cell_dino.pipelines.embed.params import EmbedParams
    from cell_dino.train.trainer import train
    from cell_dino.train.training_job import CheckpointSeries
    from tests.projects import parameters
    from tests.train.tiny_training import CONFIG, DATA, IMAGES, STATS

    table = pd.DataFrame({"Metadata_Plate": ["p"] * len(IMAGES), "Metadata_FOV": [f"f{i}" for i in range(len(IMAGES))]})
    items = Items("cell", IMAGES, table, DATA.channels, STATS, "store-1")
    params = parameters("embed", EmbedParams, batch_size=4, shard_size=8, device="cpu", precision="fp32")

    def fingerprint_of(run: Path, store: Items = items, **changes) -> dict:
        return plan_embedding(CheckpointSeries(run), store, params.model_copy(update=changes), ExecutorConfig(), False).signature

    run = tmp_path / "run"
    train(DATA, CONFIG, run)
    first = fingerprint_of(run)
    assert first == fingerprint_of(run)
    train(DATA, dataclasses.replace(CONFIG, runtime=dataclasses.replace(CONFIG.runtime, seed=5, resume="never")), run)
    assert fingerprint_of(run) != first  # retrained: the checkpoint file changed
    again = fingerprint_of(run)
    assert fingerprint_of(run, dataclasses.replace(items, generation="store-2")) != again  # re-segmented
    assert fingerprint_of(run, precision="bf16") != again


def test_each_layer_is_one_block_of_columns_whatever_the_number_of_models() -> None:
    """``features.layers`` through a model fed each channel (bag of channels, per-channel runs): the
    features are block 0 of every channel, then block 1 of every channel, so that evaluate scores
    each layer on one consecutive block; the embedding's record names the layers."""
    backbone = _backbone(1)
    extractors = [FeatureExtractor(backbone, Preprocessing("self", None, None, 32), FeatureConfig(layers=(0, 1)), [c]) for c in range(3)]
    bag = ConcatenatedExtractors(extractors, unit_norm=False)
    x = torch.randn(2, 3, 32, 32)
    features = bag(x)
    assert bag.layer_names == ["block0", "block1"] and features.shape == (2, 2 * 3 * 192)
    for c, extractor in enumerate(extractors):
        one = extractor(x)  # this channel: block 0, then block 1
        torch.testing.assert_close(features[:, c * 192 : (c + 1) * 192], one[:, :192])
        torch.testing.assert_close(features[:, (3 + c) * 192 : (4 + c) * 192], one[:, 192:])
    job = EmbeddingJob(bag, x.numpy(), pd.DataFrame({"Metadata_FOV": ["a", "b"]}), {}, 2, 2, "cpu", "fp32")
    assert job.report["layers"] == ["block0", "block1"]
    per_channel = ConcatenatedExtractors(extractors)(x)  # WS-DINO's per-channel models: each layer L2-normalised alone
    torch.testing.assert_close(per_channel[:, : 3 * 192], F.normalize(features[:, : 3 * 192], dim=1))
    with pytest.raises(ValueError, match=r"names a block twice in a network of 2 blocks \(blocks \[1, 1\]\)"):
        pooled(backbone, x[:, :1], FeatureConfig(layers=(-1, 1)))
