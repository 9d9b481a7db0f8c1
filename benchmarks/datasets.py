"""Ingest and segment seconds per field of the ``lincs`` and ``wtc11`` envs at the real data sets'
field sizes, and peak memory, one JSON line per run.

Each data set runs its env's own ``kedro run --pipeline ingest`` and ``segment`` in a fresh process
on the tests' miniature of its real tables, with the pixels at full size:

- ``lincs``: 20 fields (two plates x ten wells) of 5 x 2160 x 2160 uint16 TIFFs with
  ``--cells`` cells each, the plates' saved illumination functions applied.
- ``wtc11``: 30 cells, each a ``--z`` x 3 x H x W uint16 OME-TIFF with its masks, H and W drawn
  from ``--crop`` (the release's crops are the cell's box plus 40 px each side), max-projected and
  padded to 384 x 384.

    python benchmarks/datasets.py [--cells 300] [--z 64] [--crop 200 330]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from fresh_process import measure_in_fresh_process

REPO = Path(__file__).resolve().parents[1]


def write_lincs(root: Path, cells: int, **_: object) -> int:
    from tests import lincs_miniature

    lincs_miniature.SHAPE, lincs_miniature.CELLS_PER_FIELD = (2160, 2160), cells
    lincs_miniature.write_miniature(root)
    return int(lincs_miniature.chosen_wells()["top"].sum()) * len(lincs_miniature.PLATES)


def write_wtc11(root: Path, z: int, crop: list[int], **_: object) -> int:
    from tests import wtc11_miniature

    wtc11_miniature.Z, wtc11_miniature.CROP_SIZES = z, tuple(crop)
    return len(wtc11_miniature.write_miniature(root))


WRITERS = {"lincs": write_lincs, "wtc11": write_wtc11}


def measure(env: str, options: dict) -> dict:
    """Write ``env``'s full-size miniature, then time its ingest and segment pipelines (kedro and the
    miniature writers, which live with the tests, are imported in this measuring process only: kedro
    logs to standard output on import)."""
    sys.path.insert(0, str(REPO))
    from cell_dino.core.reporting import peak_rss_mb
    from tests.projects import make_project, run_pipeline

    with tempfile.TemporaryDirectory() as workdir:
        project, root = Path(workdir) / "project", Path(workdir) / "data"
        project.mkdir(), root.mkdir()
        make_project(project)
        n_fields = WRITERS[env](root, **options)
        os.chdir(project)
        seconds = {}
        for pipeline in ("ingest", "segment"):
            start = time.perf_counter()
            run_pipeline(project, pipeline, env=env, params={"root": str(root)})
            seconds[pipeline] = time.perf_counter() - start
    return {
        "env": env,
        "n_fields": n_fields,
        **{f"{pipeline}_s_per_field": s / n_fields for pipeline, s in seconds.items()},
        "peak_rss_mb": peak_rss_mb(),
        **options,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=300, help="cells per LINCS field")
    parser.add_argument("--z", type=int, default=64, help="z-slices per WTC-11 crop")
    parser.add_argument("--crop", type=int, nargs=2, default=(200, 330), help="WTC-11 crop height and width range (px)")
    parser.add_argument("--envs", nargs="+", default=list(WRITERS), choices=list(WRITERS))
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        env, options = args.measure
        os.environ["KEDRO_DISABLE_TELEMETRY"] = "true"
        print(json.dumps(measure(env, json.loads(options))))
        return
    options = {"lincs": {"cells": args.cells}, "wtc11": {"z": args.z, "crop": list(args.crop)}}
    runs = [measure_in_fresh_process(__file__, env, json.dumps(options[env])) for env in args.envs]
    print(
        json.dumps({"benchmark": "datasets", "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "runs": runs})
    )


if __name__ == "__main__":
    main()
