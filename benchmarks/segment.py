"""Segmentation throughput (1 and 2 workers) and peak memory at two data sizes (10x apart).

One JSON line per run. Each measurement runs in a fresh subprocess; peak memory is given for the
main process (``peak_rss_mb``) and for the largest worker (``peak_worker_rss_mb``).

    python benchmarks/segment.py [--plates 2 20]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from phantoms import phantom_with_plates

from cell_dino.core.executor import ExecutorConfig
from cell_dino.core.reporting import peak_rss_mb
from cell_dino.data import manifest as mf
from cell_dino.data.adapters.bbbc021 import read_bbbc021
from cell_dino.data.crop_store import CropStore
from cell_dino.data.fov_store import FovStore, write_fov_store
from cell_dino.ingest.preprocessing_job import PreprocessConfig, PreprocessingJob
from cell_dino.segment.segment_fovs import SegmentConfig
from cell_dino.segment.segmentation_job import SegmentationJob, write_crop_store


def fov_store_of(root: Path) -> tuple[FovStore, pd.DataFrame]:
    manifest = read_bbbc021(root)
    store = FovStore(
        write_fov_store(root.with_suffix(".fovs.zarr"), PreprocessingJob(manifest, mf.channels_of(manifest), PreprocessConfig()))
    )
    return store, manifest.set_index(mf.FOV_KEY).loc[store.keys].reset_index()


def measure(root: Path, workers: int) -> dict:
    store, table = fov_store_of(root)
    start = time.perf_counter()
    out = write_crop_store(
        root.with_suffix(f".crops{workers}.zarr"), SegmentationJob(store, table, SegmentConfig(), ExecutorConfig(workers=workers), 32)
    )
    seconds = time.perf_counter() - start
    crops = CropStore(out)
    return {
        "workers": workers,
        "n_fovs": len(store),
        "n_cells": len(crops),
        "seconds": seconds,
        "fovs_per_second": len(store) / seconds,
        "peak_rss_mb": peak_rss_mb(),
        "peak_worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plates", type=int, nargs=2, default=(2, 20))
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.workers)))
        return
    runs = {}
    with tempfile.TemporaryDirectory() as workdir:
        for plates in args.plates:
            root = phantom_with_plates(plates, Path(workdir))
            for workers in (1, 2):
                cmd = [sys.executable, __file__, "--measure", str(root), "--workers", str(workers)]
                runs[(plates, workers)] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    small, large = args.plates
    print(
        json.dumps(
            {
                "benchmark": "segment",
                "machine": platform.machine(),
                "runs": list(runs.values()),
                "speedup_2_workers": {str(p): runs[(p, 2)]["fovs_per_second"] / runs[(p, 1)]["fovs_per_second"] for p in args.plates},
                "peak_rss_ratio_large_vs_small": runs[(large, 1)]["peak_rss_mb"] / runs[(small, 1)]["peak_rss_mb"],
                "fov_ratio": runs[(large, 1)]["n_fovs"] / runs[(small, 1)]["n_fovs"],
            }
        )
    )


if __name__ == "__main__":
    main()
