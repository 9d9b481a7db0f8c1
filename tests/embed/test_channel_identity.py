"""Channel identity wherever a network meets images: the channels are matched by name, never by
position. The issue's case: a model trained on [DNA, Tubulin, Actin] embedding the same screen
ingested as [DNA, Actin, Tubulin] gave features at cosine 0.70 to the right ones, silently."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cell_dino.data.channels import ChannelSpec, channel_order
from cell_dino.data.items import Items
from cell_dino.embed.embedding import extractor_for
from cell_dino.embed.model import FeatureConfig
from cell_dino.embed.sample import attention_sample
from cell_dino.train.training_job import CheckpointSeries, TrainingJob
from tests.train.tiny_training import CONFIG, DATA, STATS

ORDER = [0, 2, 1]  # DNA, Actin, Tubulin


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> CheckpointSeries:
    run = tmp_path_factory.mktemp("run")
    TrainingJob(DATA, dataclasses.replace(CONFIG, optim=dataclasses.replace(CONFIG.optim, epochs=1))).run(run)
    return CheckpointSeries(run)


def test_channel_order_matches_by_name_maps_and_names_what_is_missing() -> None:
    assert channel_order(["DNA", "Tubulin", "Actin"], ["DNA", "Actin", "Tubulin"]) == [0, 2, 1]
    assert channel_order(["DNA", "Actin"], ["Mito", "Actin", "DNA"]) == [2, 1]  # extra data channels left out
    assert channel_order(["Tubulin"], ["DNA", "Microtubules"], {"Tubulin": "Microtubules"}) == [1]
    with pytest.raises(ValueError, match=r"takes channels \['DNA', 'Tubulin'\], the data has \['DNA', 'Actin'\]: Tubulin not in the data"):
        channel_order(["DNA", "Tubulin"], ["DNA", "Actin"])
    with pytest.raises(ValueError, match=r"channel_map names \['Golgi'\]"):
        channel_order(["DNA"], ["DNA"], {"Golgi": "DNA"})


def test_features_of_the_same_cells_in_another_channel_order_are_the_same(series: CheckpointSeries) -> None:
    images = torch.from_numpy(np.asarray(DATA.images[:8], dtype=np.float32))
    names = list(DATA.channels.names)
    right = extractor_for(series, FeatureConfig(), False, 0, names)(images)
    reordered = extractor_for(series, FeatureConfig(), False, 0, [names[i] for i in ORDER])(images[:, ORDER])
    torch.testing.assert_close(reordered, right)
    renamed = [n if n != "Tubulin" else "Microtubules" for n in names]
    mapped = extractor_for(series, FeatureConfig(), False, 0, renamed, {"Tubulin": "Microtubules"})(images)
    torch.testing.assert_close(mapped, right)
    positional = extractor_for(series, FeatureConfig(), False, 0, names)(images[:, ORDER])  # what embed did before: by position
    assert not torch.allclose(positional, right)
    with pytest.raises(ValueError, match=r"the data has \['DNA', 'Microtubules', 'Actin'\]: Tubulin not in the data"):
        extractor_for(series, FeatureConfig(), False, 0, renamed)
    random = extractor_for(series, FeatureConfig(), True, 0, [names[i] for i in ORDER])(images[:, ORDER])
    torch.testing.assert_close(random, extractor_for(series, FeatureConfig(), True, 0, names)(images))  # the random twin too


def test_the_attention_sample_sees_the_channels_by_name(series: CheckpointSeries) -> None:
    table = pd.DataFrame({"Metadata_FOV": [f"f{i}" for i in range(16)]})
    names = list(DATA.channels.names)
    stats = STATS
    right = Items("fov", DATA.images, table, ChannelSpec.of(names), stats, "g")
    swapped = Items("fov", DATA.images[:, ORDER], table, ChannelSpec.of([names[i] for i in ORDER]), stats, "g")
    rows = np.arange(4)
    a = attention_sample(extractor_for(series, FeatureConfig(), False, 0, names), right, rows)
    b = attention_sample(extractor_for(series, FeatureConfig(), False, 0, swapped.channels.names), swapped, rows)
    np.testing.assert_allclose(b.attention, a.attention, rtol=1e-5, atol=1e-6)


def test_embed_parameters_take_a_channel_map() -> None:
    from cell_dino.pipelines.embed.params import EmbedParams
    from tests.projects import parameters

    assert parameters("embed", EmbedParams).channel_map == {}
    assert parameters("embed", EmbedParams, channel_map={"Tubulin": "Microtubules"}).channel_map == {"Tubulin": "Microtubules"}


def test_a_per_channel_run_takes_its_channels_by_name_and_the_map_per_model(tmp_path: Path) -> None:
    TrainingJob(DATA, dataclasses.replace(CONFIG, optim=dataclasses.replace(CONFIG.optim, epochs=1)), "per_channel").run(tmp_path)
    series = CheckpointSeries(tmp_path)
    images = torch.from_numpy(np.asarray(DATA.images[:4], dtype=np.float32))
    names = list(DATA.channels.names)
    right = extractor_for(series, FeatureConfig(), False, 0, names)(images)
    torch.testing.assert_close(extractor_for(series, FeatureConfig(), False, 0, [names[i] for i in ORDER])(images[:, ORDER]), right)
    renamed = [n if n != "Tubulin" else "Microtubules" for n in names]
    torch.testing.assert_close(extractor_for(series, FeatureConfig(), False, 0, renamed, {"Tubulin": "Microtubules"})(images), right)
    with pytest.raises(ValueError, match=r"channel_map names \['Golgi'\], which the run \(one model per channel\) does not take"):
        extractor_for(series, FeatureConfig(), False, 0, names, {"Golgi": "DNA"})
    with pytest.raises(ValueError, match=r"gives data channel\(s\) \['DNA'\] to more than one of the run \(one model per channel\)"):
        extractor_for(series, FeatureConfig(), False, 0, names, {"Tubulin": "DNA"})
    with pytest.raises(ValueError, match=r"more than one of"):
        channel_order(["A", "B"], ["A", "B"], {"A": "B"})
