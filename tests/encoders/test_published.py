"""Published cell models read from their published file layouts compute what their authors' code
computes: each fixture under tests/published was written by ``make_fixtures.py`` from the reference
implementation (a small network at random initialisation in the published layout, a fixed input and
the reference's features of it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cell_dino.embed.model import FeatureConfig, FeatureExtractor
from cell_dino.encoders.encoder import load_encoder
from cell_dino.encoders.published import PUBLISHED, load_published

FIXTURES = Path(__file__).resolve().parents[1] / "published"
CASES = [
    ("dino4cells", "dino4cells.pth", "dino4cells"),
    ("morphem", "morphem.safetensors", "morphem"),
    ("celldino", "cell_dino.pth", "cell_dino"),
    ("celldino", "cell_dino_channel_adaptive.pth", "cell_dino_channel_adaptive"),
    ("openphenom", "openphenom.safetensors", "openphenom"),
    ("subcell", "subcell.pth", "subcell"),
]


def channels(n: int) -> tuple[str, ...]:
    return tuple(f"ch{i}" for i in range(n))


@pytest.mark.parametrize(("model", "file", "expected"), CASES)
def test_features_equal_the_reference_implementations(model: str, file: str, expected: str) -> None:
    reference = torch.load(FIXTURES / f"{expected}.expected.pt", weights_only=True)
    encoder = load_published(model, FIXTURES / file, channels(reference["channels"]), "embed.published.test.weights")
    extractor = FeatureExtractor.of(encoder, FeatureConfig())
    features = extractor(reference["input"])
    assert features.shape == reference["features"].shape
    torch.testing.assert_close(features, reference["features"], rtol=0, atol=1e-5)
    # saved in the project's method-neutral form, the encoder loads back to the same features
    again = FeatureExtractor.of(load_encoder({"encoder": encoder.state()}), FeatureConfig())
    torch.testing.assert_close(again(reference["input"]), features, rtol=0, atol=0)


def test_a_saved_published_encoder_loads_in_a_process_that_never_imported_the_loaders(tmp_path: Path) -> None:
    encoder = load_published("subcell", FIXTURES / "subcell.pth", channels(4), "p")
    torch.save({"encoder": encoder.state()}, tmp_path / "encoder.pt")
    script = (
        "import sys, torch; from cell_dino.encoders.encoder import load_encoder; "
        f"e = load_encoder(torch.load({str(tmp_path / 'encoder.pt')!r}, weights_only=True)); print(e.meta.kind)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "published:subcell"


def test_a_bag_of_channels_model_takes_any_channel_count_and_concatenates_per_channel() -> None:
    reference = torch.load(FIXTURES / "morphem.expected.pt", weights_only=True)
    encoder = load_published("morphem", FIXTURES / "morphem.safetensors", channels(2), "p")
    two = FeatureExtractor.of(encoder, FeatureConfig())(reference["input"][:, :2])
    torch.testing.assert_close(two, reference["features"][:, : two.shape[1]], rtol=0, atol=1e-5)


@pytest.mark.parametrize(("model", "file"), [("subcell", "morphem.safetensors"), ("openphenom", "dino4cells.pth"), ("dino4cells", "subcell.pth")])
def test_a_file_of_another_layout_is_refused_naming_the_parameter(model: str, file: str) -> None:
    with pytest.raises(ValueError, match=rf"^embed\.published\.x\.weights: .*{file}: not a {model} weights file"):
        load_published(model, FIXTURES / file, channels(4), "embed.published.x.weights")


def test_a_channel_count_the_network_does_not_take_and_an_unknown_model_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^p: .*subcell.pth takes 4 channels; 3 are declared"):
        load_published("subcell", FIXTURES / "subcell.pth", channels(3), "p")
    with pytest.raises(ValueError, match=rf"^p: no published model 'phenom'; known: {re.escape(str(sorted(PUBLISHED)))}"):
        load_published("phenom", FIXTURES / "subcell.pth", channels(3), "p")
    with pytest.raises(ValueError, match=r"^p: weights file .*absent.pth not found"):
        load_published("subcell", tmp_path / "absent.pth", channels(3), "p")
    (tmp_path / "text.pth").write_text("not weights")
    with pytest.raises(ValueError, match=r"^p: .*text.pth could not be read as weights"):
        load_published("subcell", tmp_path / "text.pth", channels(3), "p")


def _edited(tmp_path: Path, change) -> Path:
    saved = torch.load(FIXTURES / "dino4cells.pth", weights_only=False)
    change(saved["teacher"])
    torch.save(saved, tmp_path / "edited.pth")
    return tmp_path / "edited.pth"


def test_a_missing_or_misshaped_tensor_and_objects_that_are_not_tensors_are_named(tmp_path: Path) -> None:
    missing = _edited(tmp_path, lambda t: t.pop("backbone.blocks.1.norm1.weight"))
    with pytest.raises(ValueError, match=r"^p: .*edited.pth does not fit a dino4cells network: vit.blocks.1.norm1.weight missing$"):
        load_published("dino4cells", missing, channels(4), "p")
    shaped = _edited(tmp_path, lambda t: t.update({"backbone.blocks.0.mlp.fc2.weight": torch.zeros(128, 7)}))
    with pytest.raises(ValueError, match=r"vit.blocks.0.mlp.fc2.weight \(128, 7\) \(network \(128, 256\)\)$"):
        load_published("dino4cells", shaped, channels(4), "p")
    torch.save({"teacher": {"x": Path("/etc")}}, tmp_path / "objects.pth")
    with pytest.raises(ValueError, match=r"^p: .*objects.pth holds objects other than tensors \(not unpickled\): not a weights file$"):
        load_published("dino4cells", tmp_path / "objects.pth", channels(4), "p")
    subcell = torch.load(FIXTURES / "subcell.pth", weights_only=True)
    subcell.pop("pool_model.attention_v.1.weight")
    torch.save(subcell, tmp_path / "subcell.pth")
    with pytest.raises(ValueError, match=r"^p: .*subcell.pth: not a subcell weights file: 'pool.attention_v.weight' missing$"):
        load_published("subcell", tmp_path / "subcell.pth", channels(4), "p")
    with pytest.raises(ValueError, match=r"^p: weights file .* is a directory$"):
        load_published("subcell", tmp_path, channels(4), "p")


def test_channels_are_named_once_and_fed_as_declared() -> None:
    with pytest.raises(ValueError, match=r"^p: .*openphenom.safetensors: openphenom takes at most 11 channels, got 12$"):
        load_published("openphenom", FIXTURES / "openphenom.safetensors", channels(12), "p")
    with pytest.raises(ValueError, match=r"^p: the channels must be named, each once; got \['a', 'a'\]$"):
        load_published("morphem", FIXTURES / "morphem.safetensors", ("a", "a"), "p")
    encoder = load_published("morphem", FIXTURES / "morphem.safetensors", channels(5), "p")
    with pytest.raises(ValueError, match=r"takes B x 5 x H x W images \(its declared channels\), got \(2, 3, 32, 32\)"):
        encoder.network(torch.zeros(2, 3, 32, 32))
    assert encoder.network(torch.zeros(1, 5, 32, 32, dtype=torch.uint8)).shape == (1, 5 * 64)  # integer pixels are read as floats
