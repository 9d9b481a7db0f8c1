"""``kedro run -e bbbc021 --params root=<miniature>`` from ingest to evaluate on a miniature of the
real BBBC021 download (real tables, synthetic 16-bit 1024 x 1280 fields), per-channel WS-DINO
models included, with a tiny training budget: the recipe's preprocessing, features, profiles and
epoch selection as the real run makes them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cell_dino.data.fov_store import FovStore
from cell_dino.embed.artifacts import AttentionSample
from tests.bbbc021_miniature import write_miniature
from tests.projects import TINY_CHAIN, TINY_TRAIN, make_project, run_pipeline

CHAIN = ["ingest", "segment", "train_dino", "train_wsdino", "embed", "integrate", "evaluate"]
DATA = Path("data/bbbc021")
TINY_WSDINO = {
    "backbone": {"arch": "vit_tiny", "depth": 1, "img_size": 32},
    "head": {"out_dim": 256, "hidden_dim": 64, "bottleneck_dim": 32},
    "optim": {"epochs": 2, "warmup_epochs": 1},
    "augment": {"global_crops": {"size": 32}, "local_crops": {"number": 2, "size": 16}},
    "runtime": {"checkpoint_every": 1},
}


@pytest.fixture(scope="module")
def miniature_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project(tmp_path_factory.mktemp("bbbc021_project"))
    root = tmp_path_factory.mktemp("BBBC021")
    write_miniature(root)
    # the env's DINO is ViT-S/16; 2 attention samples: a 640 x 512 field has 5,120 patch tokens per channel model
    # and the chain runs' MLP and null sizes (the env's 5 folds of 50 epochs per model took minutes)
    params = {
        "root": str(root),
        "train_wsdino": {"train": TINY_WSDINO},
        "train_dino": {"train": TINY_TRAIN},
        "embed": {"attention_samples": 2},
        "evaluate": TINY_CHAIN["evaluate"],
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        patch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
        for pipeline in CHAIN:
            run_pipeline(project, pipeline, env="bbbc021", params=params)
    return project


def test_fields_are_corrected_resized_clipped_and_zscored(miniature_run: Path) -> None:
    store = FovStore(miniature_run / DATA / "03_primary/fov_store.zarr")
    assert store.images.shape == (36, 3, 512, 640)  # 1024 x 1280 resized bicubic
    fields = np.asarray(store.images[:4])
    np.testing.assert_allclose(fields.mean(axis=(2, 3)), 0.0, atol=1e-4)  # per-image z-score
    np.testing.assert_allclose(fields.std(axis=(2, 3)), 1.0, atol=1e-3)
    report = json.loads((miniature_run / DATA / "08_reporting/ingest.json").read_text())
    assert len(report["illumination_range"]) == 12  # one function per plate


def test_per_channel_models_give_concatenated_normalised_field_features(miniature_run: Path) -> None:
    runs = miniature_run / DATA / "06_models/wsdino"
    assert sorted(p.name for p in runs.iterdir() if p.is_dir()) == ["channel-Actin", "channel-DNA", "channel-Tubulin"]
    embeddings = pd.read_parquet(miniature_run / DATA / "04_feature/wsdino/embeddings")
    features = embeddings.filter(regex="^f_").to_numpy()
    assert features.shape == (36, 3 * 192)  # 192 per channel model (ViT-Ti here; 384 for ViT-S)
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-5)
    sample = AttentionSample.load(miniature_run / DATA / "04_feature/wsdino/attention")
    assert sample.attention.shape[2:] == (64, 80)  # the 640 x 512 field's patch grid (patch 8), not a resized crop
    assert sample.attention.shape[1] == 3 * 3 and sample.heads[:3] == ["Actin head 0", "Actin head 1", "Actin head 2"]
    assert [h.split()[0] for h in sample.heads[::3]] == ["Actin", "DNA", "Tubulin"]  # every channel model's heads, named


def test_evaluation_reports_tvn_undefined_with_its_reason_and_every_other_figure(miniature_run: Path) -> None:
    """12 DMSO images cannot support a full-rank TVN of 576 dimensions: the headline is undefined with
    the reason (never another normalisation's figures), and every other normalisation is scored."""
    report = json.loads((miniature_run / DATA / "08_reporting/evaluate.json").read_text())
    wsdino = report["models"]["wsdino"]
    integration = json.loads((miniature_run / DATA / "08_reporting/integrate_wsdino.json").read_text())
    assert "12 control rows for 576 features" in integration["undefined"]["tvn"]
    assert wsdino["headline_normalisation"] == "tvn" and wsdino["nsc"] is None and "tvn was not made" in wsdino["undefined"]["nsc"]
    scored = {r["normalisation"]: r for r in wsdino["by_normalisation"]}
    assert "tvn" not in scored and {"none", "zscore", "sphering"} <= set(scored)
    assert scored["zscore"]["n_nsc"] == 7 and 0.0 <= scored["zscore"]["nsc"] <= 1.0  # 8 treatments; methotrexate alone in its MoA
    selection = wsdino["epoch_selection"]
    assert "12 control rows for 576 features" in selection["undefined"] and selection["window"]["epochs"] == [0, 1]
