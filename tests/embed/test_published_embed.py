"""Published cell models as embed models: each registered loader is a namespace of the chain,
configured under ``embed.published.<name>``, fed the data's channels by name, skipped without its
weights file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from cell_dino.data.channels import ChannelSpec, ChannelStats
from cell_dino.data.items import Items
from cell_dino.embed.model import FeatureConfig, FeatureExtractor
from cell_dino.embed.published import PublishedConfig, published_job
from cell_dino.encoders.published import PUBLISHED, load_published
from cell_dino.pipelines.embed.params import EmbedParams
from cell_dino.registry import MODELS, PUBLISHED_MODELS, model
from tests.encoders.test_published import FIXTURES
from tests.projects import parameters

CHANNELS = ["DNA", "Tubulin", "Actin"]


def items(channels: list[str] = CHANNELS, n: int = 6) -> Items:
    images = np.random.default_rng(0).gamma(2.0, 100.0, (n, len(channels), 32, 32)).astype(np.float32)
    table = pd.DataFrame({"Metadata_Plate": ["p"] * n, "Metadata_FOV": [f"f{i}" for i in range(n)]})
    k = len(channels)
    stats = ChannelStats(channels, [0.0] * k, [1.0] * k, [0.0] * k, [100.0] * k, [400.0] * k, [900.0] * k, n_pixels=n * 1024)
    return Items("cell", images, table, ChannelSpec.of(channels), stats, "store-1")


def embedded(name: str, config: PublishedConfig, data: Items) -> torch.Tensor:
    job = published_job(name, data, config, FeatureConfig(), batch_size=4, shard_size=4, device="cpu", precision="fp32")
    return job.extractor(torch.from_numpy(np.asarray(data.images)))


def test_every_published_loader_is_a_namespace_of_the_chain() -> None:
    assert sorted(PUBLISHED_MODELS) == sorted(PUBLISHED)  # one name each, the loader's
    assert [m.name for m in MODELS if m.published] == list(PUBLISHED_MODELS)
    assert model("morphem").kind == "a published cell model" and not model("morphem").learned


def test_a_bag_of_channels_model_embeds_each_data_channel_with_the_one_network() -> None:
    data = items()
    features = embedded("morphem", PublishedConfig(weights=str(FIXTURES / "morphem.safetensors")), data)
    network = load_published("morphem", FIXTURES / "morphem.safetensors", ("x",), "p")
    one = FeatureExtractor.of(network, FeatureConfig())
    x = torch.from_numpy(np.asarray(data.images))
    expected = torch.cat([one(x[:, c : c + 1]) for c in range(3)], dim=1)  # each channel alone, in the data's order
    assert features.shape == (6, 3 * 64)
    torch.testing.assert_close(features, expected, rtol=0, atol=1e-6)


def test_a_fixed_channel_model_takes_its_channels_by_name_in_any_data_order() -> None:
    weights = str(FIXTURES / "dino4cells.pth")  # 4 channels
    own = ("Microtubules", "Protein", "Nucleus", "ER")
    data = items(["ER", "Nucleus", "Protein", "Tubulin", "Other"])
    config = PublishedConfig(weights=weights, channels=own, channel_map={"Microtubules": "Tubulin"})
    features = embedded("dino4cells", config, data)
    x = torch.from_numpy(np.asarray(data.images))
    reference = FeatureExtractor.of(load_published("dino4cells", weights, own, "p"), FeatureConfig())
    torch.testing.assert_close(features, reference(x[:, [3, 2, 1, 0]]), rtol=0, atol=0)


def test_channels_that_cannot_be_matched_are_refused_naming_the_parameter() -> None:
    weights = str(FIXTURES / "dino4cells.pth")
    with pytest.raises(ValueError, match=r"embed\.published\.dino4cells\.channels: .* takes 4 channels in its own order"):
        embedded("dino4cells", PublishedConfig(weights=weights), items(["a", "b", "c", "d"]))
    with pytest.raises(
        ValueError, match=r"takes channels \['Microtubules', 'Protein', 'Nucleus', 'ER'\].*Microtubules not in the data \(name it with embed\.published\.dino4cells\.channel_map"
    ):
        embedded("dino4cells", PublishedConfig(weights=weights, channels=("Microtubules", "Protein", "Nucleus", "ER")), items(["Protein", "Nucleus", "ER"]))
    with pytest.raises(ValueError, match=r"embed\.published\.subcell\.weights: .*takes 4 channels; 3 are declared"):
        embedded("subcell", PublishedConfig(weights=str(FIXTURES / "subcell.pth"), channels=("a", "b", "c")), items(["a", "b", "c"]))


def test_without_a_weights_file_the_model_is_skipped_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    job = published_job("openphenom", items(), PublishedConfig(), FeatureConfig(), 4, 4, "cpu", "fp32")
    assert len(job.table) == 0 and "embed.published.openphenom.weights" in job.report["skipped"]
    assert "openphenom model skipped" in caplog.text


def test_embed_parameters_name_an_unknown_model_or_a_missing_file() -> None:
    with pytest.raises(ValueError, match=r"embed\.published: no published model 'phenom2'; known: \['dino4cells'"):
        parameters("embed", EmbedParams, published={"phenom2": {"weights": None}})
    with pytest.raises(ValueError, match=r"embed\.published\.morphem\.weights: weights file /absent/morphem\.safetensors not found"):
        parameters("embed", EmbedParams, published={"morphem": {"weights": "/absent/morphem.safetensors"}})
    with pytest.raises(ValueError, match=r"embed\.published\.morphem\.channels: the model's channels must be named, each once; got \['DNA', 'DNA'\]"):
        parameters("embed", EmbedParams, published={"morphem": {"channels": ["DNA", "DNA"]}})
    given = parameters("embed", EmbedParams, published={"morphem": {"weights": str(FIXTURES / "morphem.safetensors")}})
    assert given.published_model("morphem").weights.endswith("morphem.safetensors") and given.published_model("subcell").weights is None


def test_whole_fields_are_embedded_whole_and_integer_or_empty_batches_as_numbers() -> None:
    from cell_dino.pipelines.embed.nodes import plan_published

    fields = items()
    fov_store = type("Store", (), {"images": fields.images, "channels": fields.channels, "stats": fields.stats.as_dict(), "generation": "g"})
    params = parameters("embed", EmbedParams, precision="fp32", published={"morphem": {"weights": str(FIXTURES / "morphem.safetensors"), "unit": "fov"}})
    assert params.test_time_crops_for_fields  # WS-DINO's crops for the trained models' fields: not for a published model
    job = plan_published(None, fov_store, fields.table, params, "morphem")
    x = torch.from_numpy(np.asarray(fields.images))
    whole = FeatureExtractor.of(load_published("morphem", FIXTURES / "morphem.safetensors", tuple(CHANNELS), "p"), FeatureConfig())
    torch.testing.assert_close(job.extractor(x), whole(x), rtol=0, atol=1e-6)  # the field resized, as MorphEm's code does
    rounded = x.round().clamp(0, 255)
    torch.testing.assert_close(job.extractor(rounded.to(torch.uint8)), job.extractor(rounded))  # uint8: numbers before resizing
    assert job.extractor(x[:0]).shape == (0, 3 * 64)
    with pytest.raises(ValueError, match=r"images must be B x C x H x W, got shape \(3, 32, 32\)"):
        job.extractor(x[0])
