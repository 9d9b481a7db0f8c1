"""Random single-item reads (ms per item) and training-loader images/s of crop-store layouts, one
JSON line per run, each layout beside the old one (``chunk256``: 256 items per zstd chunk).

Layouts: ``chunk256`` (the old store); ``sharded-<codec>``: one item per inner chunk inside shards
of 256 items (zarr v3's sharding codec), compressed with zstd, blosc-lz4 (byte shuffle) or not at
all. Items are crop-like float32 (normalised blobs under Poisson noise) at 3 x 64 x 64 and
4 x 512 x 512. The loader figure is the trainer's ``StoreImages`` in a ``DataLoader`` (batch 32,
random order) with 0 and 2 worker processes, each worker opening its own store handle.

    python benchmarks/stores.py [--items 1024 256] [--reads 50] [--batches 4]   # about 25 min on 2 cores

The old layout's loader at 4 x 512^2 decompresses a 1 GiB chunk per item: it alone takes most of it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr
from torch.utils.data import DataLoader, RandomSampler
from zarr.codecs import BloscCodec, ZstdCodec

from cell_dino.data.crop_store import CROP_CHUNK
from cell_dino.train.loader import StoreImages

SHAPES = {"3x64": (3, 64, 64), "4x512": (4, 512, 512)}
CODECS = {"zstd": [ZstdCodec(level=0)], "blosc-lz4": [BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")], "none": None}


def crop_like(n: int, shape: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    """``n`` normalised float32 items: a bright blob per channel under Poisson noise."""
    c, h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] / h - 0.5
    blob = np.exp(-(yy**2 + xx**2) / 0.05)
    counts = rng.poisson(50 + 400 * blob, size=(n, c, h, w)).astype(np.float32)
    return (counts - counts.mean()) / counts.std()


def write(path: Path, items: np.ndarray, layout: str) -> float:
    start = time.perf_counter()
    group = zarr.open_group(path, mode="w")
    shape = items.shape[1:]
    if layout == "chunk256":
        array = group.create_array("crops", shape=items.shape, chunks=(CROP_CHUNK, *shape), dtype="float32")
    else:
        codec = CODECS[layout.removeprefix("sharded-")]
        array = group.create_array(
            "crops", shape=items.shape, chunks=(1, *shape), shards=(CROP_CHUNK, *shape), dtype="float32", compressors=codec
        )
    for block in range(0, len(items), CROP_CHUNK):
        array[block : block + CROP_CHUNK] = items[block : block + CROP_CHUNK]
    return time.perf_counter() - start


def random_reads(path: Path, n_reads: int, rng: np.random.Generator) -> float:
    """ms per item: single items at random positions, the store opened afresh."""
    crops = zarr.open_group(path, mode="r")["crops"]
    order = rng.integers(0, crops.shape[0], n_reads)
    start = time.perf_counter()
    for index in order:
        np.asarray(crops[int(index)])
    return (time.perf_counter() - start) / n_reads * 1000


def loader_images_per_second(path: Path, workers: int, batches: int) -> float:
    dataset = StoreImages(zarr.open_group(path, mode="r")["crops"])
    loader = DataLoader(dataset, batch_size=32, sampler=RandomSampler(dataset), num_workers=workers, drop_last=True)
    iterator = iter(loader)
    next(iterator)  # workers started
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * 32 / (time.perf_counter() - start)


def measure(size: str, n: int, n_reads: int, batches: int, workdir: Path) -> list[dict]:
    rng = np.random.default_rng(0)
    items = crop_like(n, SHAPES[size], rng)
    runs = []
    for layout in ["chunk256", *(f"sharded-{name}" for name in CODECS)]:
        path = workdir / f"{size}-{layout}.zarr"
        seconds = write(path, items, layout)
        size_mb = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20
        runs.append(
            {
                "size": size,
                "layout": layout,
                "n_items": n,
                "write_s": seconds,
                "store_mb": size_mb,
                "read_ms_per_item": random_reads(path, n_reads, rng),
                **{f"loader_images_per_s_{w}_workers": loader_images_per_second(path, w, batches) for w in (0, 2)},
            }
        )
    old = runs[0]
    for run in runs:
        run["read_speedup_vs_chunk256"] = old["read_ms_per_item"] / run["read_ms_per_item"]
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs=2, default=(1024, 256), help="items at 3 x 64^2 and at 4 x 512^2")
    parser.add_argument("--reads", type=int, default=50)
    parser.add_argument("--batches", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        for size, n in zip(SHAPES, args.items, strict=True):
            for run in measure(size, n, args.reads, args.batches, Path(workdir)):
                print(
                    json.dumps({"benchmark": "stores", "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count()} | run)
                )


if __name__ == "__main__":
    main()
