"""The encoder contract: a checkpoint describes its encoder method-neutrally, embed reads it (and
a checkpoint from before the entry) the same way, and a new kind of model is one registration
plus a weights file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn

from cell_dino.data.channels import channel_order
from cell_dino.embed.embedding_job import EmbeddingJob
from cell_dino.embed.model import FeatureConfig, FeatureExtractor, checkpoint_extractor
from cell_dino.encoders.encoder import ENTRY, KINDS, Encoder, EncoderMeta, Kind, load_encoder, register_kind
from cell_dino.train.checkpoint import load_checkpoint
from cell_dino.train.optimiser import OptimConfig
from cell_dino.train.trainer import train
from tests.train.tiny_training import CHANNELS, CONFIG, DATA, IMAGES

ONE_EPOCH = dataclasses.replace(CONFIG, optim=OptimConfig(epochs=1, batch_size=4, warmup_epochs=0))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    return train(DATA, ONE_EPOCH, tmp_path_factory.mktemp("run"))


def test_a_checkpoint_names_its_encoder_and_embed_reads_it_without_knowing_dino(checkpoint: Path) -> None:
    state = load_checkpoint(checkpoint)
    entry = state[ENTRY]
    assert (entry["weights"], entry["prefix"]) == ("teacher", "backbone.")
    meta = EncoderMeta.from_dict(entry["meta"])
    assert meta.kind == "vit" and meta.channels == tuple(CHANNELS) and meta.size == 16 and meta.normalise == "self"
    assert meta.origin["method"] == "dino" and meta.unit == "cell" and meta.source_channels is None
    encoder = load_encoder(state)
    teacher = {k.removeprefix("backbone."): v for k, v in state["teacher"].items() if k.startswith("backbone.")}
    assert teacher.keys() == encoder.network.state_dict().keys()
    assert all(torch.equal(teacher[k], v) for k, v in encoder.network.state_dict().items())
    x = torch.from_numpy(IMAGES[:4])
    expected = encoder.network.forward_features(encoder.preprocessing(x))[:, 0]  # the CLS token after the final norm
    torch.testing.assert_close(checkpoint_extractor(state, FeatureConfig())(x), expected, rtol=0, atol=0)


def test_a_checkpoint_from_before_the_entry_gives_the_same_features(checkpoint: Path, tmp_path: Path) -> None:
    state = torch.load(checkpoint, weights_only=True)
    old = tmp_path / checkpoint.name
    torch.save({k: v for k, v in state.items() if k != ENTRY}, old)
    x = torch.from_numpy(IMAGES[:4])
    now, before = (checkpoint_extractor(load_checkpoint(p), FeatureConfig())(x) for p in (checkpoint, old))
    torch.testing.assert_close(before, now, rtol=0, atol=0)


def test_the_random_init_twin_is_seeded_and_untrained(checkpoint: Path) -> None:
    state = load_checkpoint(checkpoint)
    twins = [load_encoder(state, random_init=True, seed=s).network.state_dict() for s in (0, 0, 1)]
    trained = load_encoder(state).network.state_dict()
    key = "blocks.0.attn.qkv.weight"
    assert torch.equal(twins[0][key], twins[1][key]) and not torch.equal(twins[0][key], twins[2][key])
    assert not torch.equal(twins[0][key], trained[key])


def test_a_file_without_an_encoder_of_an_unknown_kind_or_another_layout_is_refused(checkpoint: Path) -> None:
    state = load_checkpoint(checkpoint)
    with pytest.raises(KeyError, match="weights.pt: no 'encoder' entry"):
        load_encoder({"teacher": state["teacher"]}, source="weights.pt")
    unknown = {**state, ENTRY: {**state[ENTRY], "meta": {**state[ENTRY]["meta"], "kind": "mae"}}}
    with pytest.raises(ValueError, match="encoder kind 'mae' is not registered; known: .*'vit'"):
        load_encoder(unknown)
    other = {**state, ENTRY: {**state[ENTRY], "meta": {**state[ENTRY]["meta"], "network": {**state[ENTRY]["meta"]["network"], "depth": 3}}}}
    with pytest.raises(ValueError, match="weights of another layout than a vit network"):
        load_encoder(other)


class ChannelMoments(nn.Module):
    """A toy model of another kind: per-channel mean and standard deviation, each scaled by a weight."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(2 * channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], dim=1) * self.scale


def test_a_new_kind_of_model_is_one_registration_and_a_weights_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cell_dino.encoders.encoder.KINDS", dict(KINDS))  # the registry as it was, after the test
    register_kind("moments", Kind(lambda network, in_chans: ChannelMoments(in_chans)))
    with pytest.raises(ValueError, match="'moments' is registered already"):
        register_kind("moments", Kind(lambda network, in_chans: ChannelMoments(in_chans)))
    network = ChannelMoments(2)
    with torch.no_grad():
        network.scale.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    meta = EncoderMeta("moments", {}, ("Actin", "DNA"), size=20, normalise="none", origin={"method": "published elsewhere"})
    torch.save({ENTRY: Encoder(meta, network).state()}, tmp_path / "moments.pt")
    encoder = load_encoder(torch.load(tmp_path / "moments.pt", weights_only=True), source="moments.pt")
    data_channels = ("DNA", "Tubulin", "Actin")  # another order and one more channel: matched by name
    extractor = FeatureExtractor.of(encoder, FeatureConfig(), channels=channel_order(meta.channels, data_channels))
    table = pd.DataFrame({"Metadata_FOV": [f"f{i}" for i in range(len(IMAGES))]})
    job = EmbeddingJob(extractor, IMAGES, table, {}, batch_size=4, shard_size=8, device="cpu", precision="fp32")
    features = np.concatenate([f for _, f in job.features(0, len(IMAGES))])
    actin, dna = IMAGES[:, 2].reshape(len(IMAGES), -1), IMAGES[:, 0].reshape(len(IMAGES), -1)
    expected = np.stack([actin.mean(1), 2 * dna.mean(1), 3 * actin.std(1, ddof=1), 4 * dna.std(1, ddof=1)], axis=1)
    np.testing.assert_allclose(features, expected, rtol=1e-5)
    with pytest.raises(ValueError, match="pooling 'patch_mean' pools a ViT's tokens"):
        FeatureExtractor.of(encoder, FeatureConfig(pooling="patch_mean"))(torch.from_numpy(IMAGES[:2, :2]))
