"""The single-cell crop store: ``crops`` (``N x C x S x S``, chunked by batch), the label masks of
every field (``n_fovs x 2 x H x W``: nuclei, cells) and ``cells.parquet``, one row per crop with all
``Metadata_*`` of its field and its geometry.

Writing is resumable: finished shards of fields wait in a hidden ``.<name>.parts`` folder beside
the store, so a re-run skips them; the store itself appears only when complete (temp + rename).
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import zarr

from cell_dino import __version__
from cell_dino.atomic import atomic_path
from cell_dino.data.channels import ChannelSpec
from cell_dino.generation import fingerprint, new_generation
from cell_dino.imaging.segment_fovs import FovSegmentation, SegmentationJob

log = logging.getLogger(__name__)
CROP_CHUNK = 256
TABLE = "cells.parquet"


def _job_signature(job: SegmentationJob) -> str:
    """What makes two segmentation jobs the same: the FOV store's contents (its generation), the
    fields, the configuration and the sharding."""
    return fingerprint({"config": asdict(job.config), "fov_store": job.fov_store.generation, "keys": job.fov_store.keys,
                        "shard_size": job.shard_size})  # fmt: skip


def _write_shard(folder: Path, results: list[FovSegmentation]) -> None:
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        crops = [r.crops for r in results]
        np.save(tmp / "crops.npy", np.concatenate(crops) if crops else np.zeros((0,)))
        np.save(tmp / "masks.npy", np.stack([np.stack([r.nuclei, r.cells]) for r in results]))
        cells = pd.concat([r.geometry.assign(fov_index=r.fov_index) for r in results], ignore_index=True)
        cells.to_parquet(tmp / "cells.parquet")
        fovs = pd.DataFrame({"fov_index": [r.fov_index for r in results], "status": [r.status for r in results],
                             "n_cells": [len(r.geometry) for r in results]})  # fmt: skip
        fovs.to_parquet(tmp / "fovs.parquet")


def _prepare_parts(parts: Path, signature: str) -> set[int]:
    """Shards already done by an identical job; anything else in ``parts`` is discarded."""
    stamp = parts / "job.json"
    if parts.is_dir() and stamp.is_file() and json.loads(stamp.read_text())["signature"] == signature:
        done = {int(p.name.removeprefix("shard-")) for p in parts.glob("shard-*")}
        log.info("resuming: %d shard(s) already segmented in %s", len(done), parts)
        return done
    if parts.exists():
        log.info("%s holds shards of another job (other inputs or settings): starting afresh", parts)
        shutil.rmtree(parts)
    parts.mkdir(parents=True)
    stamp.write_text(json.dumps({"signature": signature}))
    return set()


def _cells_of_shard(folder: Path, metadata: pd.DataFrame, first_crop: int) -> pd.DataFrame:
    cells = pd.read_parquet(folder / "cells.parquet")
    cells = metadata.iloc[cells["fov_index"].to_numpy()].reset_index(drop=True).join(cells)
    cells.insert(0, "Metadata_Cell", cells["Metadata_FOV"] + "/c" + cells["label"].astype(str))
    cells["crop_index"] = np.arange(first_crop, first_crop + len(cells))
    return cells


def _consolidate(tmp: Path, parts: Path, job: SegmentationJob) -> dict:
    """Copy the shards into the store; crops, masks and the cell table all stream shard by shard."""
    group = zarr.open_group(tmp, mode="w")
    store = job.fov_store
    size, n_channels, field_shape = job.config.crop_size, len(store.channels), store.images.shape[2:]
    crops = group.create_array("crops", shape=(0, n_channels, size, size), chunks=(CROP_CHUNK, n_channels, size, size), dtype="float32")
    masks = group.create_array("masks", shape=(len(store), 2, *field_shape), chunks=(1, 2, *field_shape), dtype="uint16")
    metadata = job.fov_table.drop(columns=["store_index", "height", "width"], errors="ignore")
    writer: pq.ParquetWriter | None = None
    status, counts = [], []
    for shard in range(job.n_shards):
        folder = parts / f"shard-{shard:05d}"
        shard_crops = np.load(folder / "crops.npy", mmap_mode="r")
        start = crops.shape[0]
        if shard_crops.size:
            crops.resize((start + len(shard_crops), *crops.shape[1:]))
            for block in range(0, len(shard_crops), CROP_CHUNK):
                stop = min(block + CROP_CHUNK, len(shard_crops))
                crops[start + block : start + stop] = shard_crops[block:stop]
        indices = job.shard_indices(shard)
        masks[indices.start : indices.stop] = np.load(folder / "masks.npy", mmap_mode="r")
        fovs = pd.read_parquet(folder / "fovs.parquet")
        status += fovs["status"].tolist()
        counts += fovs["n_cells"].tolist()
        cells = _cells_of_shard(folder, metadata, start)
        if len(cells):
            table = pa.Table.from_pandas(cells, preserve_index=False)
            writer = writer or pq.ParquetWriter(tmp / TABLE, table.schema)
            writer.write_table(table)
    if writer is None:
        _cells_of_shard(parts / "shard-00000", metadata, 0).to_parquet(tmp / TABLE)
    else:
        writer.close()
    attrs = {
        "channels": list(store.channels.names), "stats": store.stats, "crop_size": size, "crop_mode": job.config.crop_mode,
        "config": json.loads(json.dumps(asdict(job.config), default=str)), "fov_keys": store.keys,
        "fov_status": status, "cells_per_fov": counts, "version": __version__, "generation": new_generation(),
    }  # fmt: skip
    group.attrs.update(attrs)
    return attrs


def write_crop_store(path: str | Path, job: SegmentationJob) -> Path:
    """Run ``job`` shard by shard (resuming finished shards), then publish the store atomically."""
    path = Path(path)
    parts = path.with_name(f".{path.name}.parts")
    done = _prepare_parts(parts, _job_signature(job))
    for shard, results in job.shards(skip=done):
        _write_shard(parts / f"shard-{shard:05d}", results)
    with atomic_path(path) as tmp:
        attrs = _consolidate(tmp, parts, job)
        zarr.open_group(tmp, mode="r+").attrs["seconds"] = job.seconds
    shutil.rmtree(parts)
    log.info("crop store %s: %d cells from %d fields", path, sum(attrs["cells_per_fov"]), len(attrs["fov_keys"]))
    return path


class CropStore:
    """Read access: crops by index or batch, masks by field, the cell table."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not (self.path / TABLE).is_file():
            raise FileNotFoundError(f"{self.path}: no crop store here (run the segment pipeline)")
        self.group = zarr.open_group(self.path, mode="r")
        self.crops = self.group["crops"]
        self.masks = self.group["masks"]
        self.attrs = dict(self.group.attrs)
        self.channels = ChannelSpec.of(self.attrs["channels"])

    def __len__(self) -> int:
        return self.crops.shape[0]

    def __getitem__(self, index: int) -> np.ndarray:
        return self.crops[index]

    @property
    def stats(self) -> dict:
        """Per-channel statistics of the fields the crops were cut from."""
        return self.attrs["stats"]

    @property
    def generation(self) -> str:
        """The identity of this store's contents: new each time segment writes it."""
        return self.attrs.get("generation", "")

    def table(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / TABLE)
