"""``kedro run -e hpa --params root=<miniature>`` through every pipeline on a miniature of the HPA
tables (real website and Kaggle 2018 ids and labels, synthetic 512 x 512 PNGs), with a tiny training
budget: no plates of controls, images as the replicate unit, antibodies as the treatment level,
multi-label localisation for the MLP, and every metric the data cannot support undefined with its
reason rather than a crash."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from cell_dino.data.fov_store import FovStore
from cell_dino.data.items import Items
from cell_dino.embed.embedding import extractor_for
from cell_dino.embed.embedding_job import EmbeddingJob
from cell_dino.embed.model import FeatureConfig
from cell_dino.encoders.encoder import load_encoder
from cell_dino.train.training_job import CheckpointSeries, TrainingJob
from tests.hpa_miniature import write_miniature
from tests.projects import TINY_CHAIN, read_report, run_on_miniature
from tests.train.tiny_training import DATA, ONE_EPOCH

DATA_ROOT = Path("data/hpa")
# 2 attention samples: a 512 x 512 field has 4,096 patch tokens, and the token analysis compares every
# pair (16 samples, the env's, took 65 of the profile pipeline's 94 s)
PARAMS = TINY_CHAIN | {"ingest": {"source": {"options": {"annotations": "annotations.csv"}}}, "embed": {"attention_samples": 2}}


@pytest.fixture(scope="module")
def hpa_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    return run_on_miniature(tmp_path_factory, "hpa", write_miniature, PARAMS)


def test_every_image_is_ingested_with_its_four_channels(hpa_run: tuple[Path, pd.DataFrame]) -> None:
    project, table = hpa_run
    store = FovStore(project / DATA_ROOT / "03_primary/fov_store.zarr")
    assert store.images.shape == (len(table), 4, 512, 512) and list(store.channels.names) == ["Microtubules", "Protein", "Nucleus", "ER"]
    fovs = pd.read_parquet(project / DATA_ROOT / "03_primary/fov_table.parquet")
    kaggle = fovs["Metadata_FOV"].str.contains("-")
    assert kaggle.sum() == 5 and fovs.loc[kaggle, "Metadata_Antibody"].isna().all()  # UUIDs: no antibody, plate or well
    assert fovs.loc[~kaggle, "Metadata_Antibody"].nunique() == 6


def test_profiles_are_images_then_antibodies_without_the_control_fitted_normalisations(hpa_run: tuple[Path, pd.DataFrame]) -> None:
    project, table = hpa_run
    integration = read_report(project, "hpa", "integrate_dino")
    n_images = len(table)
    assert integration["umap_items"] > 0 and "umap" not in integration["undefined"]  # fitted on the single-label images
    assert integration["levels"] == {
        "fov": n_images,
        "none/well": n_images,
        "zscore/well": n_images,
        "none/treatment": 6,
        "zscore/treatment": 6,
    }


def test_evaluation_scores_localisation_and_says_why_the_screen_metrics_are_undefined(hpa_run: tuple[Path, pd.DataFrame]) -> None:
    project, _ = hpa_run
    models = read_report(project, "hpa", "evaluate")["models"]
    cellprofiler = models["cellprofiler"]
    assert cellprofiler["nsc"] == 1.0  # 6 antibodies, 3 planted localisations, each antibody's nearest other has its localisation
    assert "Metadata_Batch" in cellprofiler["undefined"]["nscb"] and "Metadata_Control" in cellprofiler["undefined"]["map_activity"]
    cell_line = cellprofiler["other_classifications"]["cell_line"]  # Kaggle images have no cell line: left out
    assert 0.0 <= cell_line["accuracy"] <= 1.0 and cell_line["classes"] == ["A-431", "U-2 OS", "U-251 MG"]
    classifier = json.loads((project / DATA_ROOT / "07_model_output/cellprofiler/classifier.json").read_text())
    assert set(classifier["f1_by_class"]) == {"Nucleoplasm", "Cytosol", "Mitochondria"}  # multi-label: the two "25 0" images add to both
    assert classifier["macro_f1"] == pytest.approx(sum(classifier["f1_by_class"].values()) / 3, abs=1e-4)


def test_profile_analyses_run_on_antibodies_and_pseudotime_is_undefined(hpa_run: tuple[Path, pd.DataFrame]) -> None:
    project, _ = hpa_run
    dino = read_report(project, "hpa", "profile")["models"]["dino"]
    assert dino["heterogeneity"]["n_groups"] == 6
    assert dino["undefined"]["pseudotime"] == "no trajectory configured (profile.pseudotime is null)"
    assert {"similarity location", "similarity antibody", "similarity cell_line"}.isdisjoint(dino["undefined"])
    cell_lines = pd.read_parquet(project / DATA_ROOT / "07_model_output/dino/similarity/cell_line.parquet")
    assert sorted(cell_lines["group"]) == ["A-431", "U-2 OS", "U-251 MG"]
    assert read_report(project, "hpa", "sweep")["n_outputs"] == 2


def test_a_bag_of_channels_network_trained_on_three_channels_embeds_the_four_hpa_channels(
    hpa_run: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    project, table = hpa_run
    TrainingJob(DATA, ONE_EPOCH, "bag_of_channels").run(tmp_path)  # the phantom's DNA, Tubulin, Actin
    series = CheckpointSeries(tmp_path)
    fields = pd.read_parquet(project / DATA_ROOT / "03_primary/fov_table.parquet")
    items = Items.of("fov", None, FovStore(project / DATA_ROOT / "03_primary/fov_store.zarr"), fields, "raise")
    extractor = extractor_for(series, FeatureConfig(), False, 0, items.channels.names, data_stats=items.stats)
    job = EmbeddingJob(extractor, items.images, items.table, {}, 4, 4, "cpu", "fp32")
    features = np.concatenate([batch for _, batch in job.features(0, len(items))])
    assert features.shape == (len(table), 4 * 192)  # ER, Microtubules, Nucleus, Protein: 192 each
    # the ER block: the one network on the ER channel alone, standardised by the HPA store's ER statistics
    er = items.channels.names.index("ER")
    images = torch.from_numpy(np.asarray(items.images[:2], dtype=np.float32))[:, er : er + 1]
    x = F.interpolate((images - items.stats.mean[er]) / items.stats.std[er], size=(16, 16), mode="bilinear", antialias=True)
    expected = load_encoder(series.latest()).network.forward_features(x)[:, 0].detach().numpy()
    np.testing.assert_allclose(features[:2, :192], expected, rtol=1e-4, atol=1e-5)
    assert not np.allclose(features[:, 192:384], features[:, :192])  # Microtubules is another block
