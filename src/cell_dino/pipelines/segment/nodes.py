"""Nodes of the segment pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cell_dino.data.crop_store import CropStore
from cell_dino.data.fov_store import FovStore
from cell_dino.data.phantom.ground_truth import truth_masks
from cell_dino.evaluation.instance_matching import MatchCounts, match_instances
from cell_dino.imaging.segment_fovs import SegmentationJob
from cell_dino.pipelines.segment.params import SegmentParams
from cell_dino.reporting import peak_rss_mb, per_second


def plan_segmentation(fov_store: FovStore, fov_table: pd.DataFrame, params: SegmentParams) -> SegmentationJob:
    """A lazy segmentation job; the crop store dataset runs it shard by shard as it writes."""
    return SegmentationJob(fov_store, fov_table, params.config, params.workers, params.shard_size)


def tabulate_cells(crop_store: CropStore) -> pd.DataFrame:
    """One row per single-cell crop: its field's ``Metadata_*``, geometry and crop index."""
    return crop_store.table()


def score_segmentation(crop_store: CropStore, fov_table: pd.DataFrame, params: SegmentParams) -> dict:
    """F1 at IoU 0.5 and mean matched IoU for nuclei and cells where ground truth exists."""
    if params.ground_truth is None or not params.ground_truth.is_dir():
        return {}
    totals = {"nuclei": MatchCounts(0, 0, 0, 0.0), "cells": MatchCounts(0, 0, 0, 0.0)}
    n_scored = 0
    for index, fov in enumerate(fov_table.itertuples(index=False)):
        masks = crop_store.masks[index]
        truth = truth_masks(params.ground_truth, fov.Metadata_Plate, fov.Metadata_Well, fov.Metadata_Site, masks.shape[1:])
        if truth is None:
            continue
        n_scored += 1
        for kind, true, predicted in zip(totals, truth, masks):
            totals[kind] = totals[kind] + match_instances(true.astype(np.int64), predicted.astype(np.int64))
    return {"n_fovs_scored": n_scored, "iou_threshold": 0.5, **{k: v.summary() for k, v in totals.items()}} if n_scored else {}


def report_segment(crop_store: CropStore, accuracy: dict) -> dict:
    """``08_reporting/segment.json``: counts, cells per field, empty fields, speed, memory, accuracy."""
    per_fov = np.asarray(crop_store.attrs["cells_per_fov"])
    status = pd.Series(crop_store.attrs["fov_status"])
    seconds = crop_store.attrs["seconds"]
    return {
        "n_inputs": len(per_fov),
        "n_outputs": len(crop_store),
        "n_fovs": len(per_fov),
        "n_cells": int(per_fov.sum()),
        "cells_per_fov": {"mean": float(per_fov.mean()), "min": int(per_fov.min()), "p25": float(np.percentile(per_fov, 25)),
                          "median": float(np.median(per_fov)), "p75": float(np.percentile(per_fov, 75)), "max": int(per_fov.max())},
        "n_empty_fovs": int((per_fov == 0).sum()),
        "fov_status": status.value_counts().to_dict(),
        "seconds": seconds,
        "fovs_per_second": per_second(len(per_fov), seconds),
        "peak_rss_mb": peak_rss_mb(),
        "crop_size": crop_store.attrs["crop_size"],
        "accuracy": accuracy,
    }  # fmt: skip
