"""Ingest throughput and peak memory at two phantom sizes (10x apart), one JSON line per run.

Each size is measured in a fresh subprocess so that peak RSS is its own. Memory must not grow with
the number of plates: the ratio ``peak_rss_mb`` large / small is the figure to watch.

    python benchmarks/ingest.py [--plates 2 20]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from phantoms import phantom_with_plates

from cell_dino.core.reporting import peak_rss_mb
from cell_dino.data import manifest as mf
from cell_dino.data.adapters.bbbc021 import read_bbbc021
from cell_dino.data.fov_store import FovStore, write_fov_store
from cell_dino.ingest.preprocessing_job import PreprocessConfig, PreprocessingJob


def measure(root: Path, out: Path) -> dict:
    """Run the preprocessing stream into a store; this is what the ingest node does."""
    manifest = read_bbbc021(root)
    start = time.perf_counter()
    write_fov_store(out, PreprocessingJob(manifest, mf.channels_of(manifest), PreprocessConfig()))
    seconds = time.perf_counter() - start
    store = FovStore(out)
    return {
        "n_fovs": len(store),
        "n_plates": int(manifest[mf.PLATE].nunique()),
        "seconds": seconds,
        "fovs_per_second": len(store) / seconds,
        "peak_rss_mb": peak_rss_mb(),
        "field_shape": list(store.images.shape[2:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plates", type=int, nargs=2, default=(2, 20))
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.measure.with_suffix(".zarr"))))
        return
    runs = []
    with tempfile.TemporaryDirectory() as workdir:
        for plates in args.plates:
            root = phantom_with_plates(plates, Path(workdir))
            cmd = [sys.executable, __file__, "--measure", str(root)]
            runs.append(json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout))
    small, large = runs
    print(
        json.dumps(
            {
                "benchmark": "ingest",
                "machine": platform.processor() or platform.machine(),
                "small": small,
                "large": large,
                "fov_ratio": large["n_fovs"] / small["n_fovs"],
                "peak_rss_ratio": large["peak_rss_mb"] / small["peak_rss_mb"],
                "throughput_ratio": large["fovs_per_second"] / small["fovs_per_second"],
                "numpy": np.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
