"""``kedro run -e test --pipeline ingest`` on the inputs real screens produce: a NaN block in one
field, a failed stain on a plate, fields of mixed sizes, real LoadData tables, header-only
tables; and a failed or concurrent run that must leave the previous outputs whole."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from cell_dino.data.fov_store import FovStore
from cell_dino.datasets.files import ParquetDataset
from cell_dino.publication import DataRootLock, RunInProgress
from tests.pipelines.conftest import run_pipeline
from tests.projects import SHARED_DATA

RAW = Path("data/test/01_raw/phantom")
STORE = Path("data/test/03_primary/fov_store.zarr")
REPORT = Path("data/test/08_reporting/ingest.json")
LOADDATA = SHARED_DATA / "lincs/loaddata_format"


def _files(project: Path) -> pd.DataFrame:
    return pd.read_csv(project / RAW / "BBBC021_v1_image.csv")


def _path(project: Path, row: pd.Series, channel: str) -> Path:
    return project / RAW / row[f"Image_PathName_{channel}"] / row[f"Image_FileName_{channel}"]


def test_a_nan_block_in_one_dna_tiff_is_an_error_of_that_file_and_never_reaches_the_store(project: Path) -> None:
    """One 10 x 10 NaN block in one DNA TIFF: ingest exited 0, the plate's DNA illumination
    function became NaN and all 24 fields of the plate NaN in DNA (segmentation then found 325
    cells instead of 636)."""
    row = _files(project).iloc[5]
    dna = _path(project, row, "DAPI")
    image = tifffile.imread(dna).astype(np.float32)
    image[40:50, 60:70] = np.nan
    tifffile.imwrite(dna, image)
    with pytest.raises(Exception, match=rf"manifest row 5 .*{row['Image_FileName_DAPI']}: 100 non-finite pixel"):
        run_pipeline(project, "ingest")
    run_pipeline(project, "ingest", params={"ingest": {"preprocess": {"on_error": "skip"}}})
    store = FovStore(project / STORE)
    report = json.loads((project / REPORT).read_text())
    assert (report["n_outputs"], report["n_skipped"]) == (47, 1) and "non-finite" in report["skipped"][0]["reason"]
    assert np.isfinite(store.images[:]).all() and np.isfinite(report["channel_stats"]["mean"]).all()
    assert all(np.isfinite(f).all() for f in store.illumination().values())


def test_a_failed_stain_on_a_plate_is_flagged_by_plate_and_channel(project: Path) -> None:
    """All Actin images of one plate are zeros: they were stored as NaN with NaN statistics,
    and training later stopped with 'loss is nan'."""
    files = _files(project)
    plate = files[files["Image_Metadata_Plate_DAPI"] == files["Image_Metadata_Plate_DAPI"].iloc[0]]
    for _, row in plate.iterrows():
        path = _path(project, row, "Actin")
        tifffile.imwrite(path, np.zeros_like(tifffile.imread(path)))
    with pytest.raises(Exception, match=r"blank channel, no signal \(every pixel is 0,"):
        run_pipeline(project, "ingest")
    run_pipeline(project, "ingest", params={"ingest": {"preprocess": {"on_error": "skip"}}})
    report = json.loads((project / REPORT).read_text())
    assert report["blank_channels"] == [{"plate": plate["Image_Metadata_Plate_DAPI"].iloc[0], "channel": "Actin", "n_fields": len(plate)}]
    assert report["n_outputs"] == 48 - len(plate) and min(report["channel_stats"]["std"]) > 0
    assert all(np.isfinite(f).all() for f in FovStore(project / STORE).illumination().values())


def test_fields_of_mixed_sizes_keep_the_most_common_size_or_are_all_resized(project: Path) -> None:
    """With on_error: skip the first row's size won, and the majority was dropped."""
    files = _files(project)
    for _, row in files.iloc[:2].iterrows():  # the first two fields are larger
        for channel in ("DAPI", "Tubulin", "Actin"):
            path = _path(project, row, channel)
            tifffile.imwrite(path, np.pad(tifffile.imread(path), ((0, 16), (0, 16)), mode="reflect"))
    run_pipeline(project, "ingest", params={"ingest": {"preprocess": {"on_error": "skip"}}})
    report = json.loads((project / REPORT).read_text())
    assert (report["n_outputs"], report["n_skipped"]) == (46, 2) and report["image_shape"][1:] == [160, 192]
    assert "differs from the data set's most common size (160, 192)" in report["skipped"][0]["reason"]
    run_pipeline(project, "ingest", params={"ingest": {"preprocess": {"resize_to": [80, 96]}}})
    assert FovStore(project / STORE).images.shape == (48, 3, 80, 96)


def _loaddata_miniature(root: Path, version: int, fields: int = 6) -> pd.DataFrame:
    """The real pe2loaddata table (columns and their order, file names, instrument metadata) with
    one row per field, and small synthetic 16-bit TIFFs where its PathName_* columns point."""
    real = pd.read_csv(LOADDATA / f"load_data_version{version}.csv")
    rows = []
    for field in range(fields):
        row = real.iloc[0].copy()
        well = f"A{field // 3 + 1:02d}"
        row["Metadata_Well"], row["Metadata_Site"] = well, field % 3 + 1
        for column in [c for c in real.columns if c.startswith("FileName_")]:
            name = str(row[column]).replace("c01f01", f"c{field // 3 + 1:02d}f{field % 3 + 1:02d}")
            row[column] = name
            image = np.random.default_rng(field).integers(100, 4000, (40, 48)).astype(np.uint16)
            target = root / row[column.replace("FileName_", "PathName_")] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(target, image)
        rows.append(row)
    table = pd.DataFrame(rows)
    table.to_csv(root / "load_data.csv", index=False)
    return table


@pytest.mark.parametrize("version", [1, 5, 7])
def test_real_loaddata_tables_ingest_with_their_columns_and_order(project: Path, version: int) -> None:
    """A valid LoadData CSV without Metadata_FOV failed in tabulate_fovs with KeyError
    ['Metadata_FOV'], after the new store and report were published beside the old FOV table."""
    root = project / "data/test/01_raw/loaddata"
    table = _loaddata_miniature(root, version)
    channels = ["OrigDNA", "OrigER", "OrigRNA", "OrigAGP", "OrigMito"] if version != 5 else ["OrigER", "OrigRNA", "OrigAGP", "OrigMito"]
    source = {
        "adapter": "loaddata",
        "root": str(root),
        "options": {"table": "load_data.csv"},
        "channels": channels,
        "required_metadata": ["Metadata_Plate", "Metadata_Well", "Metadata_Site"],
    }
    run_pipeline(project, "ingest", params={"ingest": {"source": source}})
    store = FovStore(project / STORE)
    fov_table = pd.read_parquet(project / "data/test/03_primary/fov_table.parquet")
    assert store.channels.names == tuple(channels) and store.images.shape == (6, len(channels), 40, 48)
    plate = str(table["Metadata_Plate"].iloc[0])
    assert fov_table["Metadata_FOV"].tolist() == [f"{plate}/A0{w}/{s}" for w in (1, 2) for s in (1, 2, 3)]
    assert {"Metadata_ChannelName_OrigDNA" if version != 5 else "Metadata_ChannelName_OrigER", "Metadata_ImageSizeX"} <= set(
        fov_table.columns
    )
    assert json.loads((project / REPORT).read_text())["n_outputs"] == 6


@pytest.mark.parametrize(("adapter", "table"), [("bbbc021", "BBBC021_v1_image.csv"), ("loaddata", "load_data.csv")])
def test_a_header_only_table_names_the_file(project: Path, adapter: str, table: str) -> None:
    """A TypeError (BBBC021) or a pandas error (LoadData) before."""
    root = project / RAW
    if adapter == "loaddata":
        _loaddata_miniature(root, 1, fields=1)
    path = root / table
    path.write_text(path.read_text().splitlines()[0] + "\n")
    source = {"adapter": adapter, "options": {"table": table} if adapter == "loaddata" else {}, "required_metadata": []}
    with pytest.raises(Exception, match=rf"{table}: no fields in this table \(a header and no rows\)"):
        run_pipeline(project, "ingest", params={"ingest": {"source": source}})


def test_a_failed_run_leaves_the_previous_generation_whole(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store, FOV table, manifest and report are one generation: a run failing after its new
    store was written puts every output back as it was."""
    run_pipeline(project, "ingest")
    outputs = [
        project / "data/test/02_intermediate/fov_manifest.parquet",
        project / STORE,
        project / "data/test/03_primary/fov_table.parquet",
    ]
    before = {p: p.stat().st_mtime_ns for p in outputs}
    generation = FovStore(project / STORE).generation
    write = ParquetDataset._write

    def disk_full_at_the_fov_table(self, data, path):
        if "fov_table" in str(self._filepath):
            raise OSError("No space left on device")
        write(self, data, path)

    monkeypatch.setattr(ParquetDataset, "_write", disk_full_at_the_fov_table)
    with pytest.raises(Exception, match="No space left"):
        run_pipeline(project, "ingest", params={"ingest": {"preprocess": {"downscale": 2}}})
    assert FovStore(project / STORE).generation == generation and FovStore(project / STORE).images.shape[2:] == (160, 192)
    assert {p: p.stat().st_mtime_ns for p in outputs} == before
    assert not [p for p in (project / "data/test").rglob(".*") if ".prev-" in p.name or ".tmp-" in p.name or "journal" in p.name]


def test_a_second_concurrent_run_on_the_data_root_is_refused(project: Path) -> None:
    lock = DataRootLock(project / "data/test")
    lock.acquire("a long training run")
    try:
        with pytest.raises(RunInProgress, match=r"another cell-dino run is writing .*data/test \(a long training run, pid \d+"):
            run_pipeline(project, "ingest")
    finally:
        lock.release()
    run_pipeline(project, "ingest")  # free again
