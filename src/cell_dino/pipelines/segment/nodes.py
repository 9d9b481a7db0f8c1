"""Nodes of the segment pipeline."""

from __future__ import annotations

import pandas as pd

from cell_dino.core.executor import ExecutorConfig
from cell_dino.core.reporting import run_report
from cell_dino.data.crop_store import CropStore
from cell_dino.data.fov_store import FovStore
from cell_dino.evaluate.instance_matching import accuracy
from cell_dino.phantom.ground_truth import truth_masks
from cell_dino.pipelines.segment.params import SegmentParams
from cell_dino.segment.segmentation_job import SegmentationJob


def plan_segmentation(fov_store: FovStore, fov_table: pd.DataFrame, params: SegmentParams, runtime: ExecutorConfig) -> SegmentationJob:
    """A segmentation job; the ``crop_store`` dataset runs it shard by shard, on the ``runtime``
    executor, as it writes the store."""
    return SegmentationJob(fov_store, fov_table, params.config, runtime, params.shard_size)


def tabulate_cells(crop_store: CropStore) -> pd.DataFrame:
    """One row per single-cell crop: its field's ``Metadata_*``, geometry and crop index."""
    return crop_store.table()


def score_segmentation(crop_store: CropStore, fov_table: pd.DataFrame, params: SegmentParams) -> dict:
    """F1 at IoU 0.5 and mean matched IoU for nuclei and cells where ground truth exists."""
    if params.ground_truth is None or not params.ground_truth.is_dir():
        return {}
    shape = crop_store.masks.shape[2:]
    truth = [truth_masks(params.ground_truth, f.Metadata_Plate, f.Metadata_Well, f.Metadata_Site, shape) for f in fov_table.itertuples()]
    return accuracy((crop_store.masks[i] for i in range(len(fov_table))), truth)


def report_segment(crop_store: CropStore, accuracy: dict) -> dict:
    """``08_reporting/segment.json``: counts, cells per field, empty fields, speed, memory, accuracy."""
    summary = crop_store.summary()
    return run_report(summary["n_fovs"], len(crop_store), crop_store.attrs["seconds"], unit="fovs", **summary, accuracy=accuracy)
