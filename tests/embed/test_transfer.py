"""ImageNet DINO per channel (the WS-DINO paper's transfer baseline): every item embedded with the
RGB network per channel when a weights file is given; skipped, with a log line and an empty table
of the right columns, when not; a missing file refused naming the parameter."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cell_dino.data.channels import ChannelSpec, ChannelStats
from cell_dino.data.items import Items
from cell_dino.embed.artifacts import feature_names, read_embeddings
from cell_dino.embed.model import FeatureConfig
from cell_dino.embed.transfer import TransferConfig, transfer_job
from cell_dino.encoders.backbone import BackboneConfig, create_backbone
from cell_dino.encoders.preprocessing import Preprocessing

TINY = BackboneConfig(arch="vit_tiny", patch_size=8, img_size=32, depth=2, drop_path_rate=0.0)
WIDTH = 192  # vit_tiny
CHANNELS = ("DNA", "Tubulin", "Actin")  # BBBC021's


def _fields(n: int = 5) -> Items:
    rng = np.random.default_rng(0)
    images = rng.gamma(2.0, 100.0, size=(n, 3, 48, 40)).astype(np.float32)
    table = pd.DataFrame({"Metadata_FOV": [f"Week1_22123_B0{i + 2}_s1" for i in range(n)], "Metadata_Compound": ["taxol"] * n})
    stats = ChannelStats(list(CHANNELS), [0.0] * 3, [1.0] * 3, [0.0] * 3, [0.0] * 3, [1.0] * 3, [1.0] * 3, 100)
    return Items("fov", images, table, ChannelSpec(CHANNELS), stats, "store-1")


def _run(job, path: Path) -> pd.DataFrame:
    job.run(path)
    return read_embeddings(path)


def test_each_channel_goes_through_the_rgb_network_as_grey(tmp_path: Path) -> None:
    torch.manual_seed(3)
    rgb = create_backbone(TINY, 3).eval()
    torch.save(rgb.state_dict(), tmp_path / "dino_deitsmall16_pretrain.pth")
    items = _fields()
    config = TransferConfig(weights=str(tmp_path / "dino_deitsmall16_pretrain.pth"), backbone=TINY, size=32)
    table = _run(transfer_job(items, config, FeatureConfig(), 2, 4, "cpu", "fp32"), tmp_path / "embeddings")
    assert len(table) == 5 and [c for c in table if c.startswith("f_")] == feature_names(3 * WIDTH)
    assert table["Metadata_FOV"].tolist() == items.table["Metadata_FOV"].tolist()
    x = Preprocessing("self", None, None, 32)(torch.from_numpy(items.images))  # self-normalised, resized
    with torch.no_grad():
        tubulin = rgb.forward_features(x[:, 1:2].expand(-1, 3, -1, -1))[:, 0]  # the CLS token of grey-RGB tubulin
    np.testing.assert_allclose(table[feature_names(3 * WIDTH)[WIDTH : 2 * WIDTH]].to_numpy(), tubulin.numpy(), rtol=1e-4, atol=1e-4)
    assert table.attrs["embedding"]["weights"] == config.weights and "skipped" not in table.attrs["embedding"]


def test_without_weights_the_model_is_skipped_with_a_log_line_and_the_columns_it_would_have(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="cell_dino.embed.file_model"):
        job = transfer_job(_fields(), TransferConfig(backbone=TINY, size=32), FeatureConfig(), 2, 4, "cpu", "fp32")
    assert "imagenet model skipped" in caplog.text and "embed.imagenet.weights" in caplog.text
    table = _run(job, tmp_path / "embeddings")
    assert len(table) == 0 and [c for c in table if c.startswith("f_")] == feature_names(3 * WIDTH)
    assert {"Metadata_FOV", "Metadata_Compound"} <= set(table.columns)
    assert "embed.imagenet.weights" in table.attrs["embedding"]["skipped"] and table.attrs["embedding"]["n_items"] == 0


def test_a_weights_file_that_is_not_there_is_refused_with_the_parameters(tmp_path: Path) -> None:
    """Refused when the parameters are validated, before any node runs (not after hours of CellProfiler)."""
    with pytest.raises(ValueError, match=r"embed\.imagenet\.weights: weights file .*absent\.pth not found"):
        TransferConfig(weights=str(tmp_path / "absent.pth"), backbone=TINY, size=32)


@pytest.mark.parametrize("content", ["resnet", "tensor"])
def test_weights_that_are_not_a_vit_are_refused_naming_the_parameter(tmp_path: Path, content: str) -> None:
    path = tmp_path / "dino_resnet50_pretrain.pth"
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7)} if content == "resnet" else torch.zeros(3), path)
    config = TransferConfig(weights=str(path), backbone=TINY, size=32)
    with pytest.raises(ValueError, match=r"embed\.imagenet\.weights: .* holds no ViT backbone weights"):
        transfer_job(_fields(), config, FeatureConfig(), 2, 4, "cpu", "fp32")


def test_a_network_given_no_items_writes_the_columns_it_would_have(tmp_path: Path) -> None:
    torch.save(create_backbone(TINY, 3).state_dict(), tmp_path / "rgb.pth")
    config = TransferConfig(weights=str(tmp_path / "rgb.pth"), backbone=TINY, size=32)
    empty = _fields()
    empty.images, empty.table = empty.images[:0], empty.table.iloc[:0]
    table = _run(transfer_job(empty, config, FeatureConfig(), 2, 4, "cpu", "fp32"), tmp_path / "embeddings")
    assert len(table) == 0 and [c for c in table if c.startswith("f_")] == feature_names(3 * WIDTH)
