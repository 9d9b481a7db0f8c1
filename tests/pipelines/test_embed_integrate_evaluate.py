"""``kedro run -e test`` of embed, integrate, evaluate and profile after training, on the test phantom
(the session's ``finished_project``, in which every pipeline has run)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cell_dino.embed.artifacts import AttentionSample, read_embeddings
from cell_dino.evaluate.ladder import model_ladder
from cell_dino.integrate.table import feature_columns
from cell_dino.registry import PUBLISHED_MODELS

MODELS = ("dino", "dino_random", "wsdino_cells", "wsdino", "wsdino_random", "dino_bag", "dino_bag_random", "cellprofiler", "imagenet", *PUBLISHED_MODELS)


def test_chain_from_checkpoints_to_metrics_and_profiles(finished_project: Path) -> None:
    root = finished_project / "data/test"
    cells = read_embeddings(root / "04_feature/dino/embeddings")
    fields = read_embeddings(root / "04_feature/wsdino/embeddings")
    cell_table = pd.read_parquet(root / "03_primary/cell_table.parquet")
    assert len(cells) == len(cell_table) and cells["Metadata_Index"].tolist() == list(range(len(cells)))
    assert len(fields) == 48 and sum(c.startswith("f_") for c in cells.columns) == 192
    assert cells.attrs["embedding"]["unit"] == "cell" and fields.attrs["embedding"]["unit"] == "fov"
    random = read_embeddings(root / "04_feature/dino_random/embeddings")
    assert not np.allclose(random.filter(like="f_").to_numpy(), cells.filter(like="f_").to_numpy())
    weak = read_embeddings(root / "04_feature/wsdino_cells/embeddings")  # WS-DINO on the same cells
    assert weak.attrs["embedding"]["unit"] == "cell" and weak["Metadata_Index"].tolist() == cells["Metadata_Index"].tolist()
    assert not np.allclose(weak.filter(like="f_").to_numpy(), cells.filter(like="f_").to_numpy())

    sample = AttentionSample.load(root / "04_feature/dino/attention")
    assert sample.attention.shape == (48, 3, 4, 4) and sample.images.shape == (48, 3, 48, 48)  # 32 px input, patch 8
    np.testing.assert_allclose(sample.attention.sum(axis=(2, 3)), 1.0, atol=0.1)  # all but the CLS's self-attention
    nucleus, cell = sample.masks[:, 0], sample.masks[:, 1]
    assert nucleus.any(axis=(1, 2)).all() and (nucleus & ~cell).sum() < 0.05 * nucleus.sum()

    wells = pd.read_parquet(root / "05_model_input/dino/profiles/zscore/well.parquet")
    treatments = pd.read_parquet(root / "05_model_input/dino/profiles/zscore/treatment.parquet")
    assert len(wells) == 24 and len(treatments) == 10 and wells["Metadata_Count"].eq(2).all()
    umap = pd.read_parquet(root / "05_model_input/dino/umap.parquet")
    assert len(umap) == len(cells) and np.isfinite(umap[["umap_0", "umap_1"]].to_numpy()).all()

    report = json.loads((root / "08_reporting/evaluate.json").read_text())
    assert set(report["headline"]) == set(MODELS)
    dino = report["models"]["dino"]
    # taxol, the positive control, has wells in every batch: no NSCB neighbour can exist, so it is left out (not counted as a miss)
    assert (dino["n_nsc"], dino["n_nscb"]) == (9, 8)
    assert (report["models"]["wsdino_cells"]["n_nsc"], report["models"]["wsdino_cells"]["n_nscb"]) == (9, 8)
    assert {row["normalisation"] for row in dino["by_normalisation"]} == {
        "none",
        "zscore",
        "zscore_plate_controls",
        "tvn",
        "sphering",
        "harmony",
    }
    assert 0.0 <= dino["macro_f1"] <= 1.0 and dino["epoch_selection"]["selected_epoch"] in (0, 1)
    for model in ("wsdino", "wsdino_random"):  # whole fields carry the batch's illumination and gain: Harmony over batch raises NSCB
        rows = {row["normalisation"]: row for row in report["models"][model]["by_normalisation"]}
        assert rows["harmony"]["nscb"] > rows["none"]["nscb"] + 0.25, model
    assert sum(dino["factor_shares"].values()) == pytest.approx(1.0)
    confusion = pd.read_parquet(root / "07_model_output/dino/confusion.parquet")
    predictions = pd.read_parquet(root / "07_model_output/dino/predictions.parquet")
    assert confusion.to_numpy().sum() == len(predictions) == (cell_table["Metadata_MoA"] != "DMSO").sum()
    for name in ("dino_umap", "dino_confusion", "factor_shares"):
        assert json.loads((root / f"08_reporting/figures/{name}.json").read_text())["data"]
    embed_report = json.loads((root / "08_reporting/embed_dino.json").read_text())
    assert embed_report["n_outputs"] == len(cells) and embed_report["items_per_second"] > 0
    check_cellprofiler(root, cell_table)
    check_imagenet(root, fields)
    check_published(root, cell_table)
    check_bag_of_channels(root, cells)
    check_profiles(root)


def check_cellprofiler(root: Path, cell_table: pd.DataFrame) -> None:
    """The CellProfiler-features model: every cell measured, selected features, scored like the others."""
    measured = read_embeddings(root / "04_feature/cellprofiler/embeddings")
    assert measured["Metadata_Index"].tolist() == list(range(len(cell_table)))
    assert measured["Metadata_Cell"].tolist() == cell_table["Metadata_Cell"].tolist()
    assert {c.split("_")[0] for c in feature_columns(measured)} == {"Cells", "Nuclei"}
    record = measured.attrs["embedding"]
    assert 0 < record["n_features_kept"] == len(feature_columns(measured)) < record["n_features_measured"]
    model = json.loads((root / "08_reporting/evaluate.json").read_text())["models"]["cellprofiler"]
    assert (model["n_nsc"], model["n_nscb"]) == (9, 8) and 0.0 <= model["macro_f1"] <= 1.0
    assert not model["epoch_selection"]  # nothing to choose from
    assert not (root / "07_model_output/cellprofiler/attention_overlap.parquet").exists()
    assert json.loads((root / "08_reporting/profile.json").read_text())["models"]["cellprofiler"]["modality"]


def check_imagenet(root: Path, fields: pd.DataFrame) -> None:
    """ImageNet DINO per channel (given a weights file): the fields WS-DINO embeds, 3 channels x the
    network's width (192), scored like the others."""
    transfer = read_embeddings(root / "04_feature/imagenet/embeddings")
    assert transfer["Metadata_FOV"].tolist() == fields["Metadata_FOV"].tolist() and len(feature_columns(transfer)) == 3 * 192
    assert transfer.attrs["embedding"]["unit"] == "fov" and transfer.attrs["embedding"]["weights"].endswith("rgb_dino.pth")
    model = json.loads((root / "08_reporting/evaluate.json").read_text())["models"]["imagenet"]
    assert model["n_nsc"] == 9 and model["nsc"] is not None and not model["epoch_selection"]


def check_published(root: Path, cell_table: pd.DataFrame) -> None:
    """Published cell models: MorphEm (given its weights file: a bag of channels, 64 features for each
    of the 3 channels) embeds every cell and is scored and profiled like the others; the models given
    no file are skipped, say why, and stay out of the ladder."""
    morphem = read_embeddings(root / "04_feature/morphem/embeddings")
    assert morphem["Metadata_Index"].tolist() == list(range(len(cell_table))) and len(feature_columns(morphem)) == 3 * 64
    assert morphem.attrs["embedding"]["published"] == "morphem" and morphem.attrs["embedding"]["channels"] == ["DNA", "Tubulin", "Actin"]
    evaluate = json.loads((root / "08_reporting/evaluate.json").read_text())
    assert (evaluate["models"]["morphem"]["n_nsc"], evaluate["models"]["morphem"]["n_nscb"]) == (9, 8)
    profile = json.loads((root / "08_reporting/profile.json").read_text())
    assert profile["models"]["morphem"]["modality"]
    ladder = model_ladder(evaluate, profile)
    assert ladder.loc["morphem", "nsc"] == evaluate["headline"]["morphem"]["nsc"]
    for name in set(PUBLISHED_MODELS) - {"morphem"}:
        assert f"embed.published.{name}.weights" in json.loads((root / f"08_reporting/embed_{name}.json").read_text())["skipped"]
        assert name not in ladder.index


def check_bag_of_channels(root: Path, cells: pd.DataFrame) -> None:
    """DINO's run as a bag of channels: one single-channel network trained on every channel of every
    cell, embedding each channel alone (192 features each, in channel-name order), its attention per
    channel, scored beside its own random-init twin (the same single-channel network)."""
    report = json.loads((root / "08_reporting/train_dino_bag.json").read_text())
    assert report["mode"] == "bag_of_channels" and report["n_inputs"] == 3 * len(cells) and report["collapsed"] is not None
    for model in ("dino_bag", "dino_bag_random"):
        bag = read_embeddings(root / f"04_feature/{model}/embeddings")
        assert bag["Metadata_Index"].tolist() == cells["Metadata_Index"].tolist() and len(feature_columns(bag)) == 3 * 192
    sample = AttentionSample.load(root / "04_feature/dino_bag/attention")
    assert sample.attention.shape == (48, 9, 4, 4) and sample.heads[:4] == ["Actin head 0", "Actin head 1", "Actin head 2", "DNA head 0"]
    evaluate = json.loads((root / "08_reporting/evaluate.json").read_text())
    assert (evaluate["models"]["dino_bag"]["n_nsc"], evaluate["models"]["dino_bag"]["n_nscb"]) == (9, 8)
    assert evaluate["headline"]["dino_bag"]["nsc"] is not None


def check_profiles(root: Path) -> None:
    """The profile pipeline's tables for the DINO model, and its report for all four."""
    out = root / "07_model_output/dino"
    similarity = pd.read_parquet(out / "similarity/treatment.parquet").set_index("group")
    matrix = similarity.drop(columns="annotation").to_numpy()
    assert matrix.shape == (10, 10) and np.allclose(matrix, matrix.T, atol=1e-6) and np.allclose(np.diag(matrix), 1.0, atol=1e-5)
    assert similarity["annotation"].tolist() == sorted(similarity["annotation"])  # ordered by MoA
    modality = pd.read_parquet(out / "modality_comparison.parquet").iloc[0]
    # image profiles and the phantom's true morphology parameters agree on which treatments are alike
    assert modality["n_groups"] == 10 and modality["mantel_r"] > 0 and modality["mantel_p"] < 0.05
    cells = pd.read_parquet(out / "pseudotime.parquet")
    assert set(cells["Metadata_MoA"]) == {"DMSO", "DNA damage"} and cells["pseudotime"].between(0, 1).all()
    root_row = cells.loc[cells["is_root"]]
    assert len(root_row) == 1 and root_row["Metadata_MoA"].item() == "DMSO" and root_row["pseudotime"].item() == 0
    # the tiny test network barely separates the MoAs (its order flips with library versions); the
    # measured morphology does: the planted DNA-damage phenotype lies farther from the controls
    measured = pd.read_parquet(root / "07_model_output/cellprofiler/pseudotime.parquet")
    medians = measured.groupby("Metadata_MoA")["pseudotime"].median()
    assert medians["DNA damage"] > medians["DMSO"]
    overlap = pd.read_parquet(out / "attention_overlap.parquet").set_index("head")
    assert overlap.shape == (3, 3) and list(overlap.columns) == ["DNA", "Tubulin", "Actin"] and overlap.to_numpy().max() <= 1
    regions = pd.read_parquet(out / "token_regions.parquet")
    chosen = regions[regions["n_selected"] > 0]
    np.testing.assert_allclose(chosen.filter(like="share_").sum(axis=1), 1.0)
    report = json.loads((root / "08_reporting/profile.json").read_text())
    assert set(report["models"]) == set(MODELS) and "pseudotime" in report["models"]["wsdino"]
    ranking = pd.read_parquet(out / "heterogeneity.parquet")
    assert ranking["spread"].is_monotonic_decreasing and (ranking["n_items"] >= 5).all() and "Metadata_MoA" in ranking
