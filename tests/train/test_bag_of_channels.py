"""Bag of channels (CHAMMI-75's MorphEm): one single-channel network trained on every channel of every
item as an image of its own, embedding each channel of any data set alone, in channel-name order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from cell_dino.data.channels import ChannelStats
from cell_dino.data.views import ChannelBag
from cell_dino.embed.model import ConcatenatedExtractors, FeatureConfig, run_extractor
from cell_dino.encoders.encoder import load_encoder
from cell_dino.train.loader import StoreImages, in_memory
from cell_dino.train.training_data import BAG_CHANNEL
from cell_dino.train.training_job import CheckpointSeries, TrainingJob, run_summary
from cell_dino.train.weak_labels import WeakLabelIndex
from tests.train.tiny_training import DATA, ONE_EPOCH

# other statistics than the tiny data's (0, 1): standardising by them changes every pixel
STATS = ChannelStats(["DNA", "Tubulin", "Actin"], [150.0, 250.0, 200.0], [80.0, 120.0, 60.0], *([[0.0] * 3] * 4), n_pixels=6400)
HPA = ["Microtubules", "Protein", "Nucleus", "ER"]


def test_the_bag_is_every_channel_of_every_item_standardised_by_its_own_statistics() -> None:
    images = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2)
    bag = ChannelBag(images, [1.0, 2.0, 3.0], [2.0, 4.0, 8.0])
    assert bag.shape == (6, 1, 2, 2) and len(bag) == 6
    np.testing.assert_array_equal(bag[4], (images[1, 1:2] - 2.0) / 4.0)  # image 4: channel 1 of item 1
    np.testing.assert_array_equal(bag[2], (images[0, 2:3] - 3.0) / 8.0)
    np.testing.assert_array_equal(bag[1:3], np.stack([bag[1], bag[2]]))
    np.testing.assert_array_equal(ChannelBag(images)[5], images[1, 2:3])  # unstandardised
    gap = images.copy()
    gap[1, 1, 0, 0] = np.nan  # read as 0 before standardising, as embedding reads it
    assert ChannelBag(gap, [1.0, 2.0, 3.0], [2.0, 4.0, 8.0])[4][0, 0, 0] == (0.0 - 2.0) / 4.0
    held = in_memory(bag, 100)  # the items are read once, the bag kept over them
    assert isinstance(held, ChannelBag) and isinstance(held.images, np.ndarray)
    np.testing.assert_array_equal(held[4], bag[4])


def test_pooled_statistics_are_those_of_all_channels_pixels_together() -> None:
    rng = np.random.default_rng(0)
    pixels = [rng.normal(m, s, 10_000) for m, s in ((10, 1), (50, 5), (200, 30))]
    stats = ChannelStats(["a", "b", "c"], [p.mean() for p in pixels], [p.std() for p in pixels], *([[0.0] * 3] * 4), n_pixels=10_000)
    pooled = stats.pooled(BAG_CHANNEL)
    everything = np.concatenate(pixels)
    assert pooled.channels == [BAG_CHANNEL] and pooled.n_pixels == 30_000
    assert pooled.mean[0] == pytest.approx(everything.mean()) and pooled.std[0] == pytest.approx(everything.std())
    standardised = stats.pooled(BAG_CHANNEL, standardised=True)
    assert standardised.mean[0] == pytest.approx(0.0, abs=1e-12) and standardised.std[0] == pytest.approx(1.0)


def test_a_weak_label_partner_is_the_same_channel_of_another_item_with_the_label() -> None:
    items = WeakLabelIndex(pd.Series(["a", "a", "b", None, "b", "c"]))
    bag = items.within_channels(3)
    assert bag.n_labels == 3 and len(bag.codes) == 18
    rng = np.random.default_rng(0)
    for image in range(18):
        item, channel = divmod(image, 3)
        partners = {bag.partner(image, rng) for _ in range(20)}
        expected = {0: {3 + channel}, 1: {channel}, 2: {12 + channel}, 4: {6 + channel}}.get(item, {image})  # None and "c": themselves
        assert partners == expected, image
    # balanced: each label, and the unlabelled items together, drawn equally often within a channel
    weights = bag.balanced_weights()
    np.testing.assert_allclose(weights[[0, 3, 6, 12, 9, 15]], [0.5, 0.5, 0.5, 0.5, 1.0, 1.0])
    dataset = StoreImages(ChannelBag(DATA.images[:6]), bag, seed=0)
    image, partner = dataset[4]  # channel 1 of item 1: its partner is channel 1 of item 0
    np.testing.assert_array_equal(image.numpy(), DATA.images[1, 1:2])
    np.testing.assert_array_equal(partner.numpy(), DATA.images[0, 1:2])


@pytest.fixture(scope="module")
def bag_run(tmp_path_factory: pytest.TempPathFactory) -> CheckpointSeries:
    folder = tmp_path_factory.mktemp("bag")
    job = TrainingJob(DATA, ONE_EPOCH, "bag_of_channels")
    job.check()
    job.run(folder)
    return CheckpointSeries(folder)


def test_a_bag_of_channels_run_trains_one_single_channel_network_on_every_channel(bag_run: CheckpointSeries) -> None:
    assert not bag_run.per_channel and len(bag_run.paths) == 1
    state = bag_run.latest()
    meta = state["meta"]
    assert meta["bag_of_channels"] and meta["channels"] == [BAG_CHANNEL] and meta["source_channels"] == ["DNA", "Tubulin", "Actin"]
    assert meta["n_items"] == 16 * 3  # every channel of every item is an image
    assert state["student"]["backbone.patch_embed.proj.weight"].shape[1] == 1
    report = run_summary(bag_run)
    assert report["mode"] == "bag_of_channels" and report["channels"] == ["DNA", "Tubulin", "Actin"] and report["n_models"] == 1
    assert report["n_inputs"] == 48 and "channel_image_per_second" in report  # what an epoch counts: channel images


def _network_features(network: torch.nn.Module, channel: torch.Tensor, mean: float, std: float, size: int) -> torch.Tensor:
    """The CLS token of one channel standardised and resized as training prepared it, written out."""
    x = F.interpolate((channel - mean) / std, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return network.forward_features(x)[:, 0]


def test_each_channel_goes_through_the_one_network_in_channel_name_order(bag_run: CheckpointSeries) -> None:
    images = torch.from_numpy(np.asarray(DATA.images[:4], dtype=np.float32))
    extractor = run_extractor(bag_run.states(-1), FeatureConfig(), data_channels=["DNA", "Tubulin", "Actin"], data_stats=STATS)
    assert isinstance(extractor, ConcatenatedExtractors) and not extractor.unit_norm
    features = extractor(images)
    assert features.shape == (4, 3 * 192)
    network = load_encoder(bag_run.latest()).network
    for block, (c, name) in enumerate(sorted(enumerate(STATS.channels), key=lambda pair: pair[1])):  # Actin, DNA, Tubulin
        expected = _network_features(network, images[:, c : c + 1], STATS.mean[c], STATS.std[c], 16)
        torch.testing.assert_close(features[:, block * 192 : (block + 1) * 192], expected, rtol=1e-5, atol=1e-5, msg=name)
    # the data's channels in another order: the same features
    order = [2, 0, 1]
    reordered = run_extractor(bag_run.states(-1), FeatureConfig(), data_channels=["Actin", "DNA", "Tubulin"], data_stats=STATS)
    torch.testing.assert_close(reordered(images[:, order]), features)


def test_the_three_channel_network_embeds_four_channels_of_another_data_set(bag_run: CheckpointSeries) -> None:
    images = torch.from_numpy(np.random.default_rng(1).gamma(2.0, 50.0, (2, 4, 24, 24)).astype(np.float32))
    stats = ChannelStats(HPA, [100.0, 20.0, 90.0, 70.0], [40.0, 10.0, 30.0, 35.0], *([[0.0] * 4] * 4), n_pixels=1152)
    features = run_extractor(bag_run.states(-1), FeatureConfig(), data_channels=HPA, data_stats=stats)(images)
    assert features.shape == (2, 4 * 192)
    network = load_encoder(bag_run.latest()).network
    er = _network_features(network, images[:, 3:4], 70.0, 35.0, 16)
    torch.testing.assert_close(features[:, :192], er, rtol=1e-5, atol=1e-5)  # ER sorts first
    random = run_extractor(bag_run.states(-1), FeatureConfig(), random_init=True, data_channels=HPA, data_stats=stats)(images)
    assert random.shape == (2, 4 * 192) and not torch.allclose(random, features)  # the random-init twin: the same shape
    with pytest.raises(ValueError, match=r"channel statistics \(channels \['DNA', 'Tubulin', 'Actin'\]\) lack \['Microtubules'"):
        run_extractor(bag_run.states(-1), FeatureConfig(), data_channels=HPA, data_stats=STATS)


def test_a_bag_of_channels_run_refuses_augmentations_that_name_a_channel() -> None:
    config = dataclasses.replace(ONE_EPOCH, augment=dataclasses.replace(ONE_EPOCH.augment, rescale_channel="Actin"))
    with pytest.raises(ValueError, match="augment.rescale_channel .* one channel at a time"):
        TrainingJob(DATA, config, "bag_of_channels").run(Path("/nonexistent/never-written"))  # refused before anything is written
    TrainingJob(DATA, config, "multichannel").check()  # the multichannel run takes it


def test_ws_dino_trains_as_a_bag_of_channels(tmp_path: Path) -> None:
    weak = dataclasses.replace(DATA, weak_labels=WeakLabelIndex(pd.Series(list("aabb") * 4)), weak_label="Metadata_Compound", balanced=True)
    TrainingJob(weak, ONE_EPOCH, "bag_of_channels").run(tmp_path)
    meta = CheckpointSeries(tmp_path).latest()["meta"]
    assert meta["bag_of_channels"] and meta["weak_label"] == "Metadata_Compound" and meta["n_weak_labels"] == 2
    assert meta["n_singleton_items"] == 0


def test_a_folder_holding_a_run_of_the_other_single_model_mode_is_refused(bag_run: CheckpointSeries, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(bag_run.directory, tmp_path / "run")
    with pytest.raises(ValueError, match="holds a run of the other mode than mode: multichannel"):
        TrainingJob(DATA, ONE_EPOCH, "multichannel").run(tmp_path / "run")
    assert len(list((tmp_path / "run").glob("*.pt"))) == 1  # kept


def test_singletons_are_items_in_a_bag_of_channels() -> None:
    labels = pd.Series(["a", "a", "b", None])
    assert WeakLabelIndex(labels).singletons == 2 and WeakLabelIndex(labels).within_channels(3).singletons == 2


def test_a_changed_channel_map_is_another_embedding_job(bag_run: CheckpointSeries) -> None:
    """The map decides which data channel each feature block comes from: a resumed job with another
    map would mix two layouts in one table."""
    from cell_dino.core.generation import fingerprint
    from cell_dino.data.channels import ChannelSpec
    from cell_dino.data.items import Items
    from cell_dino.embed.embedding import embedding_job

    items = Items("cell", DATA.images, pd.DataFrame({"Metadata_FOV": [f"f{i}" for i in range(16)]}), ChannelSpec.of(STATS.channels), STATS, "g")
    extractor = run_extractor(bag_run.states(-1), FeatureConfig(), data_channels=STATS.channels, data_stats=STATS)
    jobs = [
        embedding_job(bag_run, items, extractor, False, FeatureConfig(), 4, 4, "cpu", "fp32", 0, channel_map)
        for channel_map in (None, {"Zeta": "DNA"})
    ]
    assert jobs[1].signature["channel_map"] == {"Zeta": "DNA"} and fingerprint(jobs[0].signature) != fingerprint(jobs[1].signature)
