"""What checking that a store holds its items costs: opening (one listing of the array's files) and
random single-item reads through :class:`cell_dino.data.held.HeldArray` beside the bare zarr array
in the same run, one JSON line per store size.

The store is laid out as the crop store (one item per zstd chunk, 256 items per shard file) with
crop-like float32 items of 3 x 64 x 64.

    python benchmarks/held.py [--items 2048 32768] [--reads 400]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr

from cell_dino.data.crop_store import CROP_CHUNK
from cell_dino.data.held import EVERY_CHUNK, HELD, held_record, open_held

SHAPE = (3, 64, 64)


def write(path: Path, n: int, rng: np.random.Generator) -> zarr.Group:
    group = zarr.open_group(path, mode="w")
    crops = group.create_array("crops", shape=(n, *SHAPE), chunks=(1, *SHAPE), shards=(CROP_CHUNK, *SHAPE), dtype="float32", config=EVERY_CHUNK)
    for start in range(0, n, CROP_CHUNK):
        crops[start : start + CROP_CHUNK] = rng.normal(size=(min(CROP_CHUNK, n - start), *SHAPE)).astype(np.float32)
    group.attrs[HELD] = held_record(group, ("crops",))
    return zarr.open_group(path, mode="r")


def ms_per_read(array: object, order: np.ndarray) -> float:
    started = time.perf_counter()
    for i in order:
        array[int(i)]
    return 1000 * (time.perf_counter() - started) / len(order)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[2048, 32768])
    parser.add_argument("--reads", type=int, default=400)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for n in args.items:
        with tempfile.TemporaryDirectory() as tmp:
            group = write(Path(tmp) / "store.zarr", n, rng)
            started = time.perf_counter()
            held = open_held(group, Path(tmp) / "store.zarr", "crops", "rewrite it")
            open_ms = 1000 * (time.perf_counter() - started)
            order = rng.integers(0, n, args.reads)
            ms_per_read(group["crops"], order[:20])  # warm the file cache for both
            bare, checked = ms_per_read(group["crops"], order), ms_per_read(held, order)
            record = {"benchmark": "held", "items": n, "item_shape": list(SHAPE), "reads": args.reads, "open_ms": round(open_ms, 2),
                      "bare_ms_per_read": round(bare, 4), "held_ms_per_read": round(checked, 4), "ratio": round(checked / bare, 3),
                      "machine": platform.machine()}
            print(json.dumps(record))


if __name__ == "__main__":
    main()
