"""The segmentation job: every field of an FOV store segmented and cropped by the shard executor
(local worker processes or a Dask cluster, :mod:`cell_dino.core.executor`), shard by shard, into the
single-cell crop store. Finished shards wait as resumable parts
(:class:`cell_dino.core.jobs.ResumableParts`) under the fingerprint of the FOV store's generation, the
fields, the configuration and the sharding; the store appears only when complete. Memory holds one
shard whatever the number of fields: crops, masks and the cell table all stream."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import zarr
from tqdm import tqdm

from cell_dino import __version__
from cell_dino.core.executor import ExecutorConfig, ordered_map, shard_executor
from cell_dino.core.generation import fingerprint, new_generation
from cell_dino.core.jobs import ResumableParts
from cell_dino.data.crop_store import CROP_CHUNK, TABLE
from cell_dino.data.fov_store import FovStore
from cell_dino.data.held import EVERY_CHUNK, HELD, held_record, require_held
from cell_dino.segment.segment_fovs import FovSegmentation, SegmentConfig, mask_sources, process_fov

log = logging.getLogger(__name__)


@dataclass
class SegmentationJob:
    """A lazy job over all fields of an FOV store; :meth:`shards` runs it shard by shard."""

    fov_store: FovStore
    fov_table: pd.DataFrame
    config: SegmentConfig
    runtime: ExecutorConfig = ExecutorConfig()
    shard_size: int = 32
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.config.check(self.fov_store.channels)
        require_held(self.fov_store.images)
        if list(self.fov_table["Metadata_FOV"]) != self.fov_store.keys:
            raise ValueError("segment: the FOV table does not list the FOV store's fields in store order")
        self.masks = mask_sources(self.fov_table) if self.config.backend == "provided" else [None] * len(self.fov_table)
        pre = self.fov_store.attrs.get("preprocess", {})
        if self.config.backend == "provided" and (pre.get("resize_to") is not None or pre.get("downscale", 1) != 1):
            raise ValueError(
                "segment.config.backend: provided reads the masks at the images' own scale, but ingest resized or downscaled the fields "
                f"(resize_to {pre.get('resize_to')}, downscale {pre.get('downscale')}): set both off in ingest.preprocess (pad_to only)"
            )

    @property
    def n_shards(self) -> int:
        return -(-len(self.fov_store) // self.shard_size)

    def shard_indices(self, shard: int) -> range:
        return range(shard * self.shard_size, min((shard + 1) * self.shard_size, len(self.fov_store)))

    def run(self, path: Path) -> None:
        """Write the crop store at ``path`` (resuming finished shards): the job protocol."""
        write_crop_store(path, self)

    def shards(self, skip: set[int]) -> Iterator[tuple[int, Iterator[FovSegmentation]]]:
        """Yield ``(shard, results)`` for every shard not in ``skip``, in order; ``results`` yields
        the shard's fields one at a time and must be used up before the next shard."""
        start = time.perf_counter()
        todo = [s for s in range(self.n_shards) if s not in skip]
        store = (str(self.fov_store.path), self.fov_store.generation)
        progress = tqdm(total=sum(len(self.shard_indices(s)) for s in todo), desc="segment", unit="FOV", disable=None)
        indices = [i for shard in todo for i in self.shard_indices(shard)]
        try:
            with shard_executor(self.runtime) as executor:  # fields stream through the executor across shard boundaries
                fields = ordered_map(
                    executor, process_fov, [store] * len(indices), indices, [self.config] * len(indices), [self.masks[i] for i in indices]
                )

                def results(shard: int) -> Iterator[FovSegmentation]:
                    for _ in self.shard_indices(shard):
                        yield next(fields)
                        progress.update()

                for shard in todo:
                    yield shard, results(shard)
        finally:
            progress.close()
            self.seconds = time.perf_counter() - start


def shard_name(shard: int) -> str:
    return f"shard-{shard:05d}"


def job_fingerprint(job: SegmentationJob) -> str:
    """What makes two segmentation jobs the same: the FOV store's contents (its generation), the
    fields, the configuration, the sharding and, for provided masks, where they are."""
    masks = [m for m in job.masks if m is not None]
    return fingerprint(
        {"config": asdict(job.config), "fov_store": job.fov_store.generation, "keys": job.fov_store.keys, "shard_size": job.shard_size}
        | {"parts": "a file per field"}  # the layout of a finished shard: parts of another layout are redone
        | ({"masks": masks} if masks else {})
    )


def _field_file(folder: Path, what: str, position: int) -> Path:
    return folder / f"{what}-{position:05d}.npy"


def _write_shard(folder: Path, results: Iterable[FovSegmentation]) -> None:
    """A shard's results, one field at a time (its crops and masks in files of their own), so the
    driver holds one field's results, never a shard's (32 fields of 4 x 2048^2: about 1 GB)."""
    folder.mkdir()
    cells, fovs = [], []
    for position, r in enumerate(results):
        np.save(_field_file(folder, "crops", position), r.crops)
        np.save(_field_file(folder, "masks", position), np.stack([r.nuclei, r.cells]))
        cells.append(r.geometry.assign(fov_index=r.fov_index))
        fovs.append({"fov_index": r.fov_index, "status": r.status, "n_cells": len(r.geometry)})
    pd.concat(cells, ignore_index=True).to_parquet(folder / "cells.parquet")
    pd.DataFrame(fovs, columns=["fov_index", "status", "n_cells"]).to_parquet(folder / "fovs.parquet")


def _crop_blocks(files: list[Path], size: int) -> Iterator[np.ndarray]:
    """The crops of ``files`` (one per field, read memory-mapped) in order, ``size`` at a time."""
    pending, held = [], 0
    for file in files:
        crops, start = np.load(file, mmap_mode="r"), 0
        while start < len(crops):
            piece = crops[start : start + size - held]
            pending.append(piece)
            held, start = held + len(piece), start + len(piece)
            if held == size:
                yield np.concatenate(pending)
                pending, held = [], 0
    if held:
        yield np.concatenate(pending)


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
    crops = group.create_array(  # one crop per chunk for random reads, CROP_CHUNK crops per shard file (benchmarks/stores.py)
        "crops",
        shape=(0, n_channels, size, size),
        chunks=(1, n_channels, size, size),
        shards=(CROP_CHUNK, n_channels, size, size),
        dtype="float32",
        config=EVERY_CHUNK,
    )
    masks = group.create_array("masks", shape=(len(store), 2, *field_shape), chunks=(1, 2, *field_shape), dtype="uint16", config=EVERY_CHUNK)
    metadata = job.fov_table.drop(columns=["store_index", "height", "width"], errors="ignore")
    writer: pq.ParquetWriter | None = None
    status, counts = [], []
    for shard in range(job.n_shards):
        folder, indices = parts / shard_name(shard), job.shard_indices(shard)
        fovs = pd.read_parquet(folder / "fovs.parquet")
        start = crops.shape[0]
        crops.resize((start + int(fovs["n_cells"].sum()), *crops.shape[1:]))
        written = start
        with_cells = [_field_file(folder, "crops", p) for p, n in enumerate(fovs["n_cells"]) if n]
        for block in _crop_blocks(with_cells, CROP_CHUNK):
            crops[written : written + len(block)] = block
            written += len(block)
        for position, index in enumerate(indices):
            masks[index] = np.load(_field_file(folder, "masks", position), mmap_mode="r")
        status += fovs["status"].tolist()
        counts += fovs["n_cells"].tolist()
        cells = _cells_of_shard(folder, metadata, start)
        if len(cells):
            table = pa.Table.from_pandas(cells, preserve_index=False)
            writer = writer or pq.ParquetWriter(tmp / TABLE, table.schema)
            writer.write_table(table)
    if writer is None:
        _cells_of_shard(parts / shard_name(0), metadata, 0).to_parquet(tmp / TABLE)
    else:
        writer.close()
    attrs = {
        "channels": list(store.channels.names),
        "stats": store.stats,
        "crop_size": size,
        "crop_mode": job.config.crop_mode,
        "config": json.loads(json.dumps(asdict(job.config), default=str)),
        "fov_keys": store.keys,
        "fov_status": status,
        "cells_per_fov": counts,
        "version": __version__,
        HELD: held_record(group, ("crops", "masks")),
        "generation": new_generation(),
    }
    group.attrs.update(attrs)
    return attrs


def write_crop_store(path: str | Path, job: SegmentationJob) -> Path:
    """Run ``job`` shard by shard (resuming finished shards), then publish the store atomically."""
    path = Path(path)
    parts = ResumableParts(path, job_fingerprint(job))
    done = {int(name.removeprefix("shard-")) for name in parts.done()}
    for shard, results in job.shards(skip=done):
        with parts.part(shard_name(shard)) as tmp:
            _write_shard(tmp, results)

    def assemble(tmp: Path) -> None:
        attrs = _consolidate(tmp, parts.folder, job)
        zarr.open_group(tmp, mode="r+").attrs["seconds"] = job.seconds
        log.info("crop store %s: %d cells from %d fields", path, sum(attrs["cells_per_fov"]), len(attrs["fov_keys"]))

    parts.publish(assemble)
    return path
