"""``kedro run -e test --pipeline segment`` after ingest: crops, accuracy, resuming, workers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cell_dino.segment.segmentation_job as segmentation_job
from cell_dino.core.executor import ExecutorConfig
from cell_dino.data.crop_store import CropStore
from cell_dino.data.fov_store import FovStore
from cell_dino.segment.segment_fovs import SegmentConfig
from cell_dino.segment.segmentation_job import SegmentationJob, write_crop_store
from tests.pipelines.conftest import run_pipeline

CROPS = Path("data/test/03_primary/crop_store.zarr")


def test_segment_writes_centred_crops_table_masks_and_accuracy(ingested: Path) -> None:
    run_pipeline(ingested, "segment")
    store = CropStore(ingested / CROPS)
    table = pd.read_parquet(ingested / "data/test/03_primary/cell_table.parquet")
    assert len(store) == len(table) > 400 and store.crops.shape[1:] == (3, 48, 48)
    assert table["Metadata_Cell"].is_unique and not table["touches_border"].any()
    assert {"Metadata_MoA", "Metadata_Compound", "centroid_y", "bbox_x1", "nucleus_area", "cell_area"} <= set(table.columns)
    assert store.masks.shape == (48, 2, 160, 192)
    offsets, coverage = [], []
    for i in range(0, len(store), 7):
        inside = store[i][2] > 0  # masked crops: the cell's own pixels
        ys, xs = np.nonzero(inside)
        offsets.append(np.hypot(ys.mean() - 24, xs.mean() - 24))
        coverage.append(inside.sum() / table["cell_area"].iloc[i])
    assert np.median(offsets) < 1.0 and np.max(offsets) < 3.0  # centred on the cell
    assert np.median(coverage) > 0.97  # the cell fits its box
    report = json.loads((ingested / "data/test/08_reporting/segment.json").read_text())
    assert report["n_cells"] == len(store) and report["n_empty_fovs"] == 0
    assert report["accuracy"]["nuclei"]["f1"] >= 0.9 and report["accuracy"]["cells"]["f1"] >= 0.75


def test_interrupted_segmentation_resumes_without_redoing_shards(ingested: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FovStore(ingested / "data/test/03_primary/fov_store.zarr")
    table = pd.read_parquet(ingested / "data/test/03_primary/fov_table.parquet")
    job = SegmentationJob(store, table, SegmentConfig(crop_size=32), shard_size=8)
    real = segmentation_job.process_fov
    calls: list[int] = []

    def crash_at_20(path, index, config, masks):
        if index == 20:
            raise RuntimeError("killed")
        calls.append(index)
        return real(path, index, config, masks)

    monkeypatch.setattr(segmentation_job, "process_fov", crash_at_20)
    out = ingested / "resumable.zarr"
    with pytest.raises(RuntimeError, match="killed"):
        write_crop_store(out, job)
    assert not out.exists() and len(list(out.with_name(".resumable.zarr.parts").glob("shard-*"))) == 2

    calls.clear()
    monkeypatch.setattr(segmentation_job, "process_fov", lambda p, i, c, m: calls.append(i) or real(p, i, c, m))
    write_crop_store(out, job)
    assert calls == list(range(16, 48))  # shards 0 and 1 were not redone
    resumed = CropStore(out)
    fresh = CropStore(write_crop_store(ingested / "fresh.zarr", job))
    np.testing.assert_array_equal(resumed.crops[:], fresh.crops[:])
    assert not out.with_name(".resumable.zarr.parts").exists()


def test_two_workers_give_the_same_crops_as_one(ingested: Path) -> None:
    store = FovStore(ingested / "data/test/03_primary/fov_store.zarr")
    table = pd.read_parquet(ingested / "data/test/03_primary/fov_table.parquet")
    one = CropStore(
        write_crop_store(ingested / "one.zarr", SegmentationJob(store, table, SegmentConfig(crop_size=32), ExecutorConfig(workers=1), 16))
    )
    two = CropStore(
        write_crop_store(ingested / "two.zarr", SegmentationJob(store, table, SegmentConfig(crop_size=32), ExecutorConfig(workers=2), 16))
    )
    np.testing.assert_array_equal(one.crops[:], two.crops[:])
    pd.testing.assert_frame_equal(one.table(), two.table())


def test_shards_of_an_older_fov_store_are_not_reused_after_a_reingest(ingested: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A segmentation killed part-way, then ingest run again (a new FOV store with the same
    fields): the finished shards were made from the old store and must be redone."""
    table = pd.read_parquet(ingested / "data/test/03_primary/fov_table.parquet")
    config = SegmentConfig(crop_size=32)
    real = segmentation_job.process_fov

    def killed_at_20(path, index, config, masks):
        if index == 20:
            raise RuntimeError("killed")
        return real(path, index, config, masks)

    monkeypatch.setattr(segmentation_job, "process_fov", killed_at_20)
    out = ingested / "crops.zarr"
    with pytest.raises(RuntimeError, match="killed"):
        write_crop_store(out, SegmentationJob(FovStore(ingested / "data/test/03_primary/fov_store.zarr"), table, config, shard_size=8))
    run_pipeline(ingested, "ingest")  # same fields, a new store generation
    calls: list[int] = []
    monkeypatch.setattr(segmentation_job, "process_fov", lambda p, i, c, m: calls.append(i) or real(p, i, c, m))
    write_crop_store(out, SegmentationJob(FovStore(ingested / "data/test/03_primary/fov_store.zarr"), table, config, shard_size=8))
    assert calls == list(range(48))
