"""Ingest and segment at 10x the data: seconds per field and peak memory for N and 10 N synthetic
4 x 2048 x 2048 uint16 fields (HPA's size), on the local executor and on a Dask LocalCluster, with
the ratios that show memory stays flat (goal: peak at 10 N <= 1.2 x peak at N). One JSON line.

The fields are written once (plates of 20); each (N, executor) then runs in a fresh process on the
first N: ingest (the plates' illumination functions estimated and applied) then segment, both with
2 workers. Peak memory is the larger of the driver's and the
largest worker's (``ru_maxrss`` of the process and of its finished children).

    python benchmarks/scale.py [--fields 20 200] [--cells 60] [--executors local dask]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
from fresh_process import measure_in_fresh_process
from scipy import ndimage

CHANNELS = ("DNA", "Tubulin", "Actin", "ER")
SIZE = 2048
FIELDS_PER_PLATE = 20


def synthetic_field(rng: np.random.Generator, cells: int) -> np.ndarray:
    """``4 x SIZE x SIZE`` uint16: blurred nuclei (DNA) inside larger blurred cell bodies (the
    other channels), under a vignetting illumination and Poisson noise."""
    centres = rng.integers(40, SIZE - 40, size=(cells, 2))
    points = np.zeros((SIZE, SIZE), np.float32)
    points[centres[:, 0], centres[:, 1]] = 1.0
    nuclei = ndimage.gaussian_filter(points, 9) * 2 * np.pi * 81
    bodies = ndimage.gaussian_filter(points, 22) * 2 * np.pi * 484
    yy, xx = np.ogrid[:SIZE, :SIZE]
    light = 1.0 - 0.3 * (((yy - SIZE / 2) ** 2 + (xx - SIZE / 2) ** 2) / (SIZE / 2) ** 2)
    signal = [nuclei, bodies * 0.8, bodies, bodies * 0.5]
    return np.stack([rng.poisson(np.clip(200 + 3000 * s * light, 0, None)).astype(np.uint16) for s in signal])


def write_fields(root: Path, n: int, cells: int) -> pd.DataFrame:
    """``n`` fields as one TIFF per channel, and their FOV manifest (plates of FIELDS_PER_PLATE)."""
    rng, rows = np.random.default_rng(0), []
    for i in range(n):
        plate, well = f"P{i // FIELDS_PER_PLATE:03d}", f"A{i % FIELDS_PER_PLATE + 1:02d}"
        field = synthetic_field(rng, cells)
        row = {"Metadata_Plate": plate, "Metadata_Well": well, "Metadata_Site": 1, "Metadata_FOV": f"{plate}/{well}/s1"}
        for c, channel in enumerate(CHANNELS):
            name = f"{plate}_{well}_{channel}.tiff"
            tifffile.imwrite(root / name, field[c])
            row |= {f"FileName_{channel}": name, f"PathName_{channel}": str(root)}
        rows.append(row)
    return pd.DataFrame(rows)


def measure(raw: Path, n: int, executor: str) -> dict:
    from cell_dino.core.executor import ExecutorConfig
    from cell_dino.core.reporting import peak_rss_mb
    from cell_dino.data import manifest as mf
    from cell_dino.data.fov_store import FovStore, write_fov_store
    from cell_dino.ingest.preprocessing_job import PreprocessConfig, PreprocessingJob
    from cell_dino.segment.segment_fovs import SegmentConfig
    from cell_dino.segment.segmentation_job import SegmentationJob, write_crop_store

    runtime = ExecutorConfig(executor=executor, workers=2)
    manifest = pd.read_parquet(raw / "manifest.parquet").head(n)
    with tempfile.TemporaryDirectory() as workdir:
        root = Path(workdir)
        start = time.perf_counter()
        fovs = FovStore(
            write_fov_store(root / "fovs.zarr", PreprocessingJob(manifest, mf.channels_of(manifest), PreprocessConfig(), runtime))
        )
        ingest, ingest_peak = time.perf_counter() - start, peak_rss_mb()
        table = mf.fov_table(manifest, fovs.keys, fovs.images.shape[2:])
        start = time.perf_counter()
        crops = write_crop_store(root / "crops.zarr", SegmentationJob(fovs, table, SegmentConfig(), runtime, 16))
        segment = time.perf_counter() - start
        n_cells = len(pd.read_parquet(crops / "cells.parquet"))
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "executor": executor,
        "n_fields": n,
        "n_cells": n_cells,
        "ingest_s_per_field": ingest / n,
        "segment_s_per_field": segment / n,
        "driver_peak_rss_mb": peak_rss_mb(),
        "driver_peak_rss_mb_after_ingest": ingest_peak,
        "worker_peak_rss_mb": workers,
        "peak_rss_mb": max(peak_rss_mb(), workers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, nargs=2, default=(20, 200))
    parser.add_argument("--cells", type=int, default=60, help="cells per field")
    parser.add_argument("--executors", nargs="+", default=["local", "dask"], choices=["local", "dask"])
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        raw, n, executor = args.measure
        print(json.dumps(measure(Path(raw), int(n), executor)))
        return
    with tempfile.TemporaryDirectory() as raw:
        write_fields(Path(raw), max(args.fields), args.cells).to_parquet(Path(raw) / "manifest.parquet")
        runs = {(e, n): measure_in_fresh_process(__file__, raw, str(n), e) for e in args.executors for n in args.fields}
    small, large = args.fields
    ratios = {
        executor: {
            "peak_rss_ratio": runs[(executor, large)]["peak_rss_mb"] / runs[(executor, small)]["peak_rss_mb"],
            "s_per_field_ratio": sum(runs[(executor, large)][f"{p}_s_per_field"] for p in ("ingest", "segment"))
            / sum(runs[(executor, small)][f"{p}_s_per_field"] for p in ("ingest", "segment")),
        }
        for executor in args.executors
    }
    if {"local", "dask"} <= set(args.executors):
        ratios["dask_vs_local_s_per_field"] = {
            str(n): sum(runs[("dask", n)][f"{p}_s_per_field"] for p in ("ingest", "segment"))
            / sum(runs[("local", n)][f"{p}_s_per_field"] for p in ("ingest", "segment"))
            for n in args.fields
        }
    print(
        json.dumps(
            {
                "benchmark": "scale",
                "machine": platform.processor() or platform.machine(),
                "cpus": os.cpu_count(),
                "field": [len(CHANNELS), SIZE, SIZE],
                "runs": list(runs.values()),
                "ratios": ratios,
            }
        )
    )


if __name__ == "__main__":
    main()
