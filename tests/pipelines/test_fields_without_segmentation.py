"""WS-DINO on whole fields needs no segmentation: ``kedro run --pipeline train_wsdino --namespaces
wsdino`` after ingest, then embed, integrate and evaluate of the field models, with no crop store on
disk (it failed with FileNotFoundError on crop_store.zarr). The pipeline's cell run says what it needs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cell_dino.cli import cli
from cell_dino.embed.artifacts import AttentionSample, read_embeddings
from tests.pipelines.conftest import run_pipeline

FIELD_MODELS = ["wsdino", "wsdino_random"]


def test_embed_integrate_evaluate_fields_without_a_crop_store(project: Path) -> None:
    run_pipeline(project, "ingest")
    with pytest.raises(Exception, match="no crop store here \\(run the segment pipeline\\)"):
        run_pipeline(project, "train_wsdino")  # its wsdino_cells run needs the cells
    # the torchrun entry point, limited to the fields run: trains it, then writes its metrics and report
    result = CliRunner().invoke(cli, ["train", "--pipeline", "train_wsdino", "-e", "test", "--namespaces", "wsdino"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    root = project / "data/test"
    assert json.loads((root / "08_reporting/train_wsdino.json").read_text())["epochs"] == 2
    assert not (root / "08_reporting/train_wsdino_cells.json").exists()
    record = json.loads((root / "08_reporting/runs/train_wsdino.json").read_text())
    assert record["namespaces"] == ["wsdino"] and list(record["parameters"]) == ["train_wsdino"]
    assert not (root / "03_primary/crop_store.zarr").exists()
    for pipeline in ("embed", "integrate", "evaluate"):
        run_pipeline(project, pipeline, namespaces=FIELD_MODELS)
    fields = read_embeddings(root / "04_feature/wsdino/embeddings")
    assert len(fields) == 48 and fields.attrs["embedding"]["unit"] == "fov"
    sample = AttentionSample.load(root / "04_feature/wsdino/attention")
    assert sample.attention.shape[2:] == (20, 24) and not sample.masks.any()  # the 160 x 192 field's grid; no masks without segment
    metrics = pd.read_parquet(root / "07_model_output/wsdino/metrics.parquet").set_index("normalisation")
    assert metrics.loc["zscore", "n_nsc"] > 0 and 0.0 <= metrics.loc["zscore", "nsc"] <= 1.0
