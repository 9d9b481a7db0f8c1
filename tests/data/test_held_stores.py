"""Stores that know what they hold: a missing chunk or shard file is refused naming the store, the
items and the file (zarr alone reads it as blank items), or left out with ``on_error: skip``; a
deleted part of an embedding is refused too. Stores are copies of the test chain's (``finished_project``)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import zarr

from cell_dino.data.channels import ChannelSpec
from cell_dino.data.crop_store import CropStore
from cell_dino.data.fov_store import FovStore, write_fov_store
from cell_dino.data.held import HELD, DamagedItemsError, MissingItemsError
from cell_dino.data.views import SubsetImages
from cell_dino.data.items import Items
from cell_dino.embed.artifacts import read_embeddings
from cell_dino.segment.crops import item_masks
from cell_dino.embed.cellprofiler import CellProfilerConfig
from cell_dino.embed.cellprofiler_job import cellprofiler_job
from cell_dino.embed.embedding_job import item_metadata
from cell_dino.segment.segment_fovs import SegmentConfig
from cell_dino.segment.segmentation_job import SegmentationJob
from cell_dino.pipelines.params import load_parameters
from cell_dino.pipelines.train_dino.nodes import plan_training
from cell_dino.pipelines.train_dino.params import TrainingParams
from tests.projects import REPO, make_project, run_pipeline

PRIMARY = Path("data/test/03_primary")
SHARD_1 = "crops/c/1/0/0/0"  # crops 256-511: the case


@pytest.fixture()
def stores(finished_project: Path, tmp_path: Path) -> Path:
    """A copy of the finished test chain's FOV store, crop store and tables."""
    shutil.copytree(finished_project / PRIMARY, tmp_path / "03_primary")
    return tmp_path / "03_primary"


def test_a_deleted_crop_shard_is_refused_naming_the_store_the_items_and_the_file(stores: Path) -> None:
    crops = stores / "crop_store.zarr"
    before = CropStore(crops)
    assert len(before) > 512 and before.crops.n_missing == 0
    first, third = before[10], before[600]
    (crops / SHARD_1).unlink()
    assert not np.asarray(zarr.open_group(crops, mode="r")["crops"][300]).any()  # what zarr alone returns: a blank crop
    store = CropStore(crops)
    assert store.crops.n_missing == 256
    with pytest.raises(MissingItemsError) as error:
        store[300]
    message = str(error.value)
    assert str(crops) in message and "crops 300 are missing" in message and SHARD_1 in message and "on_error: skip" in message
    with pytest.raises(MissingItemsError, match="crops 256-300 are missing"):
        store.crops[250:301]  # the missing ones among those asked for
    np.testing.assert_array_equal(store[10], first)
    np.testing.assert_array_equal(store[600], third)


def test_items_of_a_store_with_a_missing_shard_raise_or_are_left_out(stores: Path) -> None:
    crop_store, fov_store = CropStore(stores / "crop_store.zarr"), FovStore(stores / "fov_store.zarr")
    fov_table = pd.read_parquet(stores / "fov_table.parquet")
    whole = Items.of("cell", crop_store, fov_store, fov_table, "raise")
    (stores / "crop_store.zarr" / SHARD_1).unlink()
    crop_store = CropStore(stores / "crop_store.zarr")
    with pytest.raises(MissingItemsError, match=r"crops 256-511 are missing"):
        Items.of("cell", crop_store, fov_store, fov_table, "raise")
    items = Items.of("cell", crop_store, fov_store, fov_table, "skip")
    assert items.skipped == 256 and len(items) == len(items.table) == len(whole) - 256
    assert items.table["crop_index"].iloc[255] == 255 and items.table["crop_index"].iloc[256] == 512
    assert item_metadata(items.table)["Metadata_Index"].iloc[256] == 512  # the row in the store, as the explorer reads it
    assert items.generation != whole.generation  # a run or embedding of the whole store is not resumed from this one
    np.testing.assert_array_equal(items.images[256], whole.images[512])
    np.testing.assert_array_equal(items.images[250:260], np.concatenate([whole.images[250:256], whole.images[512:516]]))


def test_a_deleted_field_chunk_and_mask_chunk_are_refused_and_fields_keep_their_masks_when_skipped(stores: Path) -> None:
    fov_table = pd.read_parquet(stores / "fov_table.parquet")
    crop_store = CropStore(stores / "crop_store.zarr")
    whole = Items.of("fov", crop_store, FovStore(stores / "fov_store.zarr"), fov_table, "raise")
    (stores / "fov_store.zarr" / "images/c/3/1/0/0").unlink()  # field 3's second channel
    fov_store = FovStore(stores / "fov_store.zarr")
    with pytest.raises(MissingItemsError, match=r"images 3 are missing \(file\(s\) images/c/3/1/0/0 absent"):
        fov_store[3]
    np.testing.assert_array_equal(fov_store[4], whole.images[4])
    items = Items.of("fov", crop_store, fov_store, fov_table, "skip")
    assert items.skipped == 1 and len(items) == len(whole) - 1
    np.testing.assert_array_equal(items.images[3], whole.images[4])
    np.testing.assert_array_equal(item_masks(items, np.array([3])), item_masks(whole, np.array([4])))  # field 4's masks, not field 3's
    (stores / "crop_store.zarr" / "masks/c/5/0/0/0").unlink()
    with pytest.raises(MissingItemsError, match="masks 5 are missing"):
        CropStore(stores / "crop_store.zarr").masks[5]


def test_a_missing_mask_leaves_out_its_fields_cells_and_a_store_with_nothing_left_is_refused(stores: Path) -> None:
    fov_table = pd.read_parquet(stores / "fov_table.parquet")
    fov_store = FovStore(stores / "fov_store.zarr")
    cells = CropStore(stores / "crop_store.zarr").table()
    (stores / "crop_store.zarr" / "masks/c/5/0/0/0").unlink()
    crop_store = CropStore(stores / "crop_store.zarr")
    with pytest.raises(MissingItemsError, match="masks 5 are missing"):
        Items.of("cell", crop_store, fov_store, fov_table, "raise")
    items = Items.of("cell", crop_store, fov_store, fov_table, "skip")
    assert items.skipped == (cells["fov_index"] == 5).sum() > 0 and not (items.table["fov_index"] == 5).any()
    fields = Items.of("fov", crop_store, fov_store, fov_table, "skip")
    assert fields.skipped == 1 and 5 not in fields.table["store_index"].to_numpy()
    for shard in (stores / "crop_store.zarr" / "crops/c").iterdir():
        shutil.rmtree(shard)
    with pytest.raises(MissingItemsError, match="on_error: skip left no item: every one is missing"):
        Items.of("cell", CropStore(stores / "crop_store.zarr"), fov_store, fov_table, "skip")


def test_damaged_stray_and_absent_files_are_named(stores: Path) -> None:
    crops = stores / "crop_store.zarr"
    (crops / "crops/c/.DS_Store").write_text("")  # a stray file is no chunk
    assert CropStore(crops).crops.n_missing == 0
    shard = crops / SHARD_1
    shard.write_bytes(shard.read_bytes()[:1000])  # truncated
    with pytest.raises(DamagedItemsError, match=r"crop_store.zarr: crops 300 cannot be read .*truncated or damaged. Run the segment"):
        CropStore(crops)[300]
    shutil.rmtree(crops / "masks")
    with pytest.raises(MissingItemsError, match=r"crop_store.zarr: no array 'masks' \(its folder or zarr.json is gone\)"):
        CropStore(crops)
    meta = json.loads((crops / "crops/zarr.json").read_text())
    meta["shape"][0] -= 10  # an array cut short after the store was written
    (crops / "crops/zarr.json").write_text(json.dumps(meta))
    with pytest.raises(MissingItemsError, match=rf"crops has {meta['shape'][0]} items where the store recorded {meta['shape'][0] + 10}"):
        CropStore(crops)
    (crops / "cells.parquet").unlink()
    with pytest.raises(FileNotFoundError, match=r"an incomplete crop store, its cells.parquet is missing \(run the segment pipeline again\)"):
        CropStore(crops)


def test_segment_cellprofiler_and_training_refuse_stores_with_missing_files_before_they_start(stores: Path) -> None:
    fov_table = pd.read_parquet(stores / "fov_table.parquet")
    (stores / "crop_store.zarr" / "masks/c/5/0/0/0").unlink()
    crop_store = CropStore(stores / "crop_store.zarr")
    with pytest.raises(MissingItemsError, match="masks 5 are missing"):
        cellprofiler_job(crop_store, FovStore(stores / "fov_store.zarr"), CellProfilerConfig(), seed=0)
    skipping = cellprofiler_job(crop_store, FovStore(stores / "fov_store.zarr"), CellProfilerConfig(), seed=0, on_error="skip")
    on_field_5 = int((crop_store.table()["fov_index"] == 5).sum())
    assert skipping.fields == [f for f in range(len(fov_table)) if f != 5] and not (skipping.cells["fov_index"] == 5).any()
    assert skipping.report["n_items_skipped"] == on_field_5 > 0
    (stores / "crop_store.zarr" / SHARD_1).unlink()
    params = load_parameters("train_dino", TrainingParams, REPO, env="test")
    with pytest.raises(MissingItemsError, match="crops 256-511 are missing"):
        plan_training(CropStore(stores / "crop_store.zarr"), FovStore(stores / "fov_store.zarr"), fov_table, params)
    skipping = plan_training(
        CropStore(stores / "crop_store.zarr"), FovStore(stores / "fov_store.zarr"), fov_table, params.model_copy(update={"on_error": "skip"})
    )
    cells = crop_store.table()
    lost = int((cells["crop_index"].between(256, 511) | (cells["fov_index"] == 5)).sum())  # the shard's crops, and field 5's (its masks)
    assert skipping.data.n_skipped == lost and skipping.data.n_items == len(crop_store) - lost
    (stores / "fov_store.zarr" / "images/c/7/0/0/0").unlink()
    with pytest.raises(MissingItemsError, match="images 7 are missing"):
        SegmentationJob(FovStore(stores / "fov_store.zarr"), fov_table, SegmentConfig(crop_size=32))


def test_blank_fields_are_written_so_only_a_fault_leaves_a_file_missing(tmp_path: Path) -> None:
    class Stream:
        channels = ChannelSpec(("DNA", "Actin"))
        illumination_functions: dict = {}
        capacity, storage_dtype = 3, "uint16"

        def __iter__(self):
            for i in range(3):
                yield f"fov{i}", np.full((2, 8, 8), 0 if i == 1 else 7, np.uint16)  # field 1 is all fill value

        def summary(self) -> dict:
            return {"channels": ["DNA", "Actin"], "stats": {}, "skipped": []}

    store = FovStore(write_fov_store(tmp_path / "fovs.zarr", Stream()))
    assert store.attrs[HELD] == {"images": {"items": 3, "files": 6}}
    assert store.images.array.n_missing == 0 and not store[1].any()


def test_a_store_written_before_the_record_is_read_unchecked_with_a_warning(stores: Path, caplog: pytest.LogCaptureFixture) -> None:
    crops = stores / "crop_store.zarr"
    meta = json.loads((crops / "zarr.json").read_text())
    del meta["attributes"][HELD]
    (crops / "zarr.json").write_text(json.dumps(meta))
    (crops / SHARD_1).unlink()
    with caplog.at_level(logging.WARNING):
        store = CropStore(crops)
    assert "written before stores recorded what they hold" in caplog.text
    assert store.crops.n_missing == 0 and not store[300].any()


def test_a_subset_reads_positions_among_its_items_in_their_order() -> None:
    images = np.arange(10)[:, None] * np.ones((1, 2))
    subset = SubsetImages(images, np.array([0, 1, 2, 6, 7, 9]))
    assert subset.shape == (6, 2) and subset[3][0] == 6
    np.testing.assert_array_equal(subset[1:5][:, 0], [1, 2, 6, 7])
    assert subset[4:4].shape == (0, 2)
    np.testing.assert_array_equal(SubsetImages(images, np.array([5, 1, 2]))[0:3][:, 0], [5, 1, 2])


def test_a_deleted_embedding_part_is_refused_naming_it_and_its_items(finished_project: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dino"
    shutil.copytree(finished_project / "data/test/04_feature/dino/embeddings", folder)
    whole = read_embeddings(folder)
    parts = whole.attrs["embedding"]["parts"]
    assert sum(rows for _, rows in parts) == len(whole)
    shutil.copy(folder / parts[0][0], folder / "part-00000 copy.parquet")  # a copy beside the parts is not read
    assert len(read_embeddings(folder)) == len(whole)
    (folder / parts[0][0]).unlink()
    with pytest.raises(MissingItemsError, match=rf"{parts[0][0]} \(items 0-{parts[0][1] - 1}\) missing"):
        read_embeddings(folder)


def test_embed_refuses_a_store_with_a_missing_shard_and_skips_it_when_asked(finished_project: Path, tmp_path: Path, monkeypatch) -> None:
    project = make_project(tmp_path)
    for needed in (PRIMARY, Path("data/test/06_models/dino")):  # the stores and the run's checkpoints
        shutil.copytree(finished_project / needed, project / needed)
    (project / PRIMARY / "crop_store.zarr" / SHARD_1).unlink()
    monkeypatch.chdir(project)
    with pytest.raises(MissingItemsError, match=r"crop_store.zarr: crops 256-511 are missing"):
        run_pipeline(project, "embed", namespaces=["dino"])
    command = [sys.executable, "-m", "kedro", "run", "-e", "test", "--pipelines", "embed", "--namespaces", "dino"]
    terminal = subprocess.run(command, cwd=project, capture_output=True, text=True, env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"})
    assert terminal.returncode == 1 and "Traceback" not in terminal.stderr + terminal.stdout
    assert terminal.stderr.strip().splitlines()[-1].startswith("Error: MissingItemsError: ") and SHARD_1 in terminal.stderr
    assert not (project / "data/test/04_feature/dino/embeddings").exists()
    run_pipeline(project, "embed", namespaces=["dino"], params={"embed": {"on_error": "skip"}})
    report = json.loads((project / "data/test/08_reporting/embed_dino.json").read_text())
    cells = pd.read_parquet(project / PRIMARY / "cell_table.parquet")
    assert report["n_items_skipped"] == 256 and report["n_outputs"] == len(cells) - 256
