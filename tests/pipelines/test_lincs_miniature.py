"""``kedro run -e lincs --params root=<miniature>`` through every pipeline on a miniature of the LINCS
metadata (real plates, platemap, compounds, doses and MoAs of two replicate plates of
C-7161-01-LM6-027) whose images and illumination functions sit in a local S3 bucket, named by the
LoadData table's ``URL_`` columns, with a tiny training budget: the top-dose set, the saved functions
applied, profiles sphered against DMSO, MoA metrics at compound level."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cell_dino.data.fov_store import FovStore
from tests.conftest import new_bucket
from tests.lincs_miniature import PLATES, vignetting, write_miniature
from tests.projects import TINY_CHAIN, make_project, read_report, run_every_pipeline

DATA = Path("data/lincs")
PARAMS = TINY_CHAIN | {"segment": {"config": {"crop_size": 48}}}


@pytest.fixture(scope="module")
def lincs_run(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Path:
    project = make_project(tmp_path_factory.mktemp("lincs_project"))
    root = tmp_path_factory.mktemp("LINCS")
    with pytest.MonkeyPatch.context() as patch:
        bucket, upload = new_bucket(s3_endpoint, patch)
        write_miniature(root, f"{bucket}/cpg0004-lincs", lambda key, body: upload(f"cpg0004-lincs/{key}", body))
        run_every_pipeline(project, "lincs", {"root": str(root)} | PARAMS)
    return project


def test_the_top_dose_fields_are_read_from_s3_and_flat_after_the_saved_functions(lincs_run: Path) -> None:
    store = FovStore(lincs_run / DATA / "03_primary/fov_store.zarr")
    assert store.images.shape == (2 * 10, 5, 256, 256) and list(store.channels.names) == [
        "OrigDNA",
        "OrigRNA",
        "OrigER",
        "OrigAGP",
        "OrigMito",
    ]
    fovs = pd.read_parquet(lincs_run / DATA / "03_primary/fov_table.parquet")
    assert sorted(fovs["Metadata_Plate"].unique()) == sorted(PLATES) and fovs["Metadata_Control"].sum() == 8
    assert set(fovs.loc[~fovs["Metadata_Control"], "Metadata_DoseRecode"]) == {6}
    function = vignetting(0)  # SQ00015054's saved function, the same for every channel
    assert read_report(lincs_run, "lincs", "ingest")["illumination_range"]["SQ00015054"]["OrigDNA"] == pytest.approx(
        float(function.max() / function.min())
    )
    corner = np.asarray(store.images[0, 0, :6, :6]).mean()
    assert corner == pytest.approx(200, rel=0.1)  # background 200 + noise, divided by the function it was multiplied by


def test_moa_metrics_on_sphered_compound_profiles(lincs_run: Path) -> None:
    models = read_report(lincs_run, "lincs", "evaluate")["models"]
    cellprofiler = models["cellprofiler"]
    assert cellprofiler["headline_normalisation"] == "sphering"
    scored = {r["normalisation"]: r for r in cellprofiler["by_normalisation"]}
    assert {"none", "zscore", "zscore_plate_controls", "tvn", "sphering"} <= set(scored)
    assert scored["sphering"]["n_nsc"] == 6  # 6 compounds, each with another of its MoA
    assert cellprofiler["nsc"] is not None and 0.0 <= cellprofiler["map_activity"] <= 1.0


def test_similarity_of_the_top_half_of_compounds(lincs_run: Path) -> None:
    dino = read_report(lincs_run, "lincs", "profile")["models"]["dino"]
    assert "similarity compounds_top_half" not in dino["undefined"] and dino["undefined"]["pseudotime"].startswith("no trajectory")
    table = pd.read_parquet(lincs_run / DATA / "07_model_output/dino/similarity/compounds_top_half.parquet")
    assert len(table) == 4  # the top half of 7 treatments (6 compounds and DMSO), by mean similarity
