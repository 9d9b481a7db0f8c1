"""``kedro run -e test --pipeline ingest`` end to end, with good and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cell_dino.data.fov_store import FovStore
from tests.pipelines.conftest import run_pipeline

STORE = Path("data/test/03_primary/fov_store.zarr")
REPORT = Path("data/test/08_reporting/ingest.json")


def phantom_files(project: Path) -> pd.DataFrame:
    return pd.read_csv(project / "data/test/01_raw/phantom/BBBC021_v1_image.csv")


def test_ingest_writes_store_table_and_report(project: Path) -> None:
    run_pipeline(project, "ingest")
    store = FovStore(project / STORE)
    assert len(store) == 48 and store.images.shape == (48, 3, 160, 192)
    assert store.images.array.chunks == (1, 1, 160, 192) and store.images.storage_dtype == np.float32  # corrected: float
    assert store.channels.names == ("DNA", "Tubulin", "Actin")
    assert set(store.illumination()) == {"Week1_22111", "Week2_22121"}
    table = pd.read_parquet(project / "data/test/03_primary/fov_table.parquet")
    assert table["Metadata_FOV"].tolist() == store.keys
    assert table["store_index"].tolist() == list(range(48))
    assert {"Metadata_Plate", "Metadata_MoA", "Metadata_Batch"} <= set(table.columns)
    report = json.loads((project / REPORT).read_text())
    assert (report["n_inputs"], report["n_outputs"], report["n_skipped"]) == (48, 48, 0)
    assert report["fovs_per_second"] > 0 and report["peak_rss_mb"] > 0
    first = store[0]
    assert np.isclose(report["channel_stats"]["mean"][0], np.mean(store.images[:, 0]), rtol=1e-6)
    assert first.dtype == np.float32


def test_skip_mode_lists_every_skipped_fov(project: Path) -> None:
    files = phantom_files(project)
    root = project / "data/test/01_raw/phantom"
    truncated = root / files.Image_PathName_Actin[3] / files.Image_FileName_Actin[3]
    truncated.write_bytes(truncated.read_bytes()[:500])
    (root / files.Image_PathName_DAPI[10] / files.Image_FileName_DAPI[10]).unlink()
    run_pipeline(project, "ingest", params={"ingest": {"preprocess": {"on_error": "skip"}}})
    report = json.loads((project / REPORT).read_text())
    assert (report["n_outputs"], report["n_skipped"]) == (46, 2)
    reasons = " ".join(s["reason"] for s in report["skipped"])
    assert "truncated TIFF" in reasons and "image file not found" in reasons
    assert len(FovStore(project / STORE)) == 46


def test_failed_run_names_the_file_and_keeps_the_previous_store(project: Path) -> None:
    run_pipeline(project, "ingest")
    before = FovStore(project / STORE).keys
    files = phantom_files(project)
    bad = project / "data/test/01_raw/phantom" / files.Image_PathName_Tubulin[20] / files.Image_FileName_Tubulin[20]
    bad.write_bytes(b"not a tiff at all")
    with pytest.raises(Exception, match=rf"manifest row \d+ .*{files.Image_FileName_Tubulin[20]}"):
        run_pipeline(project, "ingest")
    assert FovStore(project / STORE).keys == before
    assert not [p for p in (project / STORE).parent.iterdir() if ".tmp-" in p.name]


def test_failed_first_run_leaves_no_store(project: Path) -> None:
    files = phantom_files(project)
    (project / "data/test/01_raw/phantom" / files.Image_PathName_DAPI[30] / files.Image_FileName_DAPI[30]).unlink()
    with pytest.raises(Exception, match="image file not found"):
        run_pipeline(project, "ingest")
    assert not (project / STORE).parent.exists() or not any((project / STORE).parent.iterdir())


def test_real_layout_env_reads_the_phantom_with_root_given_at_run_time(project: Path) -> None:
    run_pipeline(project, "ingest", env="bbbc021", params={"root": "data/test/01_raw/phantom"})
    store = FovStore(project / "data/bbbc021/03_primary/fov_store.zarr")
    assert store.images.shape == (48, 3, 512, 640)  # WS-DINO: resized to 640 x 512
    fields = np.asarray(store.images[:2])
    np.testing.assert_allclose(fields.mean(axis=(2, 3)), 0.0, atol=1e-4)  # WS-DINO: each field z-scored
    np.testing.assert_allclose(fields.std(axis=(2, 3)), 1.0, atol=1e-3)
