"""Embedding jobs: features of every stored item streamed to sharded parquet, resumable by shard.

Shards of ``shard_size`` items are computed (here, or as tasks on a Dask cluster:
:mod:`cell_dino.core.executor`) and written as resumable parts
(:class:`cell_dino.core.jobs.ResumableParts`, under the fingerprint of the checkpoint files, the store's
generation, the feature settings, the device and the precision); a re-run of the same job skips
finished shards. When all are done the folder is published atomically as the output (a parquet
dataset folder).
``_embedding.json`` in the folder records the run (items per second, peak memory, what was embedded).
Memory holds one batch of images and one shard of features, whatever the number of items.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch
import torch.nn as nn
from tqdm import tqdm

from cell_dino.core.executor import ExecutorConfig, SerialExecutor, ordered_map, shard_executor
from cell_dino.core.generation import fingerprint
from cell_dino.core.jobs import ResumableParts
from cell_dino.core.reporting import peak_rss_mb
from cell_dino.core.runtime import Precision, autocast, pick_device
from cell_dino.embed.artifacts import PARTS, REPORT, feature_names, parts_record

log = logging.getLogger(__name__)
INDEX = "Metadata_Index"


STORE_ROWS = ("crop_index", "store_index")  # an item's row in its store: the crop store's, the FOV store's


def item_metadata(table: pd.DataFrame) -> pd.DataFrame:
    """The ``Metadata_*`` columns of an item table plus ``Metadata_Index``, the item's row in its
    store (``crop_index`` or ``store_index`` where the table has it: items left out with
    ``on_error: skip`` leave gaps; else the table's row)."""
    meta = table[[c for c in table.columns if c.startswith("Metadata_")]].reset_index(drop=True)
    rows = next((table[c].to_numpy() for c in STORE_ROWS if c in table), np.arange(len(meta)))
    return meta.assign(**{INDEX: rows})


@dataclass
class EmbeddingJob:
    """Features of ``images[i]`` for every row ``i`` of ``table`` (same length)."""

    extractor: nn.Module
    images: Any  # N x C x H x W, indexable by slices (zarr array)
    table: pd.DataFrame
    signature: dict[str, Any]  # what makes two jobs identical (checkpoint files, store generation, config, device): resume only then
    batch_size: int = 64
    shard_size: int = 8192
    device: str = "auto"
    precision: Precision = "auto"
    runtime: ExecutorConfig = ExecutorConfig()  # dask: shards as tasks on the cluster; local: here, on this process's device
    report: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        layers = getattr(self.extractor, "layer_names", [])
        if len(layers) > 1:  # several blocks' features, one consecutive block of columns each (evaluate scores each)
            self.report["layers"] = layers
        if len(self.table) != self.images.shape[0]:
            raise ValueError(f"embedding job: {len(self.table)} table rows for {self.images.shape[0]} images")
        if self.shard_size % self.batch_size:
            raise ValueError(f"embed shard_size {self.shard_size} must be a multiple of batch_size {self.batch_size}")

    def features(self, start: int, stop: int, device: torch.device | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """``(first index, features)`` of each batch of items ``start:stop``."""
        return batch_features(self.extractor, self.images, start, stop, self.batch_size, device or pick_device(self.device), self.precision)

    def _shard(self, meta: pd.DataFrame, start: int, stop: int) -> tuple[Any, ...]:
        """The arguments of :func:`embed_shard` for items ``start:stop``."""
        return (
            self.extractor,
            self.images,
            meta.iloc[start:stop].reset_index(drop=True),
            start,
            self.batch_size,
            self.device,
            self.precision,
        )

    def run(self, path: Path) -> None:
        """Embed every item into the folder ``path`` (resuming finished shards): the job protocol.
        With ``runtime.executor: dask`` the shards are tasks on the cluster (each worker on its own
        device); otherwise they run here, one at a time, on this process's device."""
        parts = ResumableParts(Path(path), fingerprint({**self.signature, "n": len(self.table), "shard": self.shard_size}))
        n, meta, started, done = len(self.table), item_metadata(self.table), time.perf_counter(), 0
        starts = list(range(0, n, self.shard_size)) or [0]  # no items: one empty shard
        todo = [(shard, start) for shard, start in enumerate(starts) if f"part-{shard:05d}.parquet" not in parts.done()]
        local = self.runtime.executor == "local"
        with (
            tqdm(
                total=n, initial=n - sum(min(self.shard_size, n - s) for _, s in todo), desc="embed", unit="item", disable=None
            ) as progress,
            contextlib.nullcontext(SerialExecutor()) if local else shard_executor(self.runtime) as executor,
        ):
            shards = zip(*(self._shard(meta, start, min(start + self.shard_size, n)) for _, start in todo))
            for (shard, _), table in zip(todo, ordered_map(executor, embed_shard, *shards), strict=True):
                with parts.part(f"part-{shard:05d}.parquet") as tmp:
                    pq.write_table(table, tmp)
                done += table.num_rows
                progress.update(table.num_rows)
        seconds = time.perf_counter() - started
        self.report.update(
            {
                "n_items": n,
                "n_embedded_now": done,
                "seconds": seconds,
                "items_per_second": done / seconds if seconds > 0 else 0.0,
                "peak_rss_mb": peak_rss_mb(),
            }
        )

        def assemble(tmp: Path) -> None:
            tmp.mkdir()
            for part in sorted(parts.folder.glob("part-*.parquet")):
                shutil.move(part, tmp / part.name)
            (tmp / REPORT).write_text(json.dumps({**self.report, PARTS: parts_record(tmp)}, default=str))

        parts.publish(assemble)
        log.info("embedded %d items into %s (%.1f items/s)", n, path, self.report["items_per_second"])


def batch_features(
    extractor: nn.Module, images: Any, start: int, stop: int, batch_size: int, device: torch.device, precision: Precision
) -> Iterator[tuple[int, np.ndarray]]:
    """``(first index, B x D float32 features)`` of each batch of ``images[start:stop]``."""
    extractor.to(device).eval()
    for first in range(start, stop, batch_size):
        batch = torch.from_numpy(np.asarray(images[first : min(first + batch_size, stop)], dtype=np.float32))
        with autocast(device, precision):
            yield first, extractor(batch.to(device)).float().cpu().numpy()


def embed_shard(
    extractor: nn.Module, images: Any, meta: pd.DataFrame, start: int, batch_size: int, device: str, precision: Precision
) -> pa.Table:
    """The features of ``images[start : start + len(meta)]`` beside ``meta`` (their ``Metadata_*``
    rows), as one arrow table; computed where the shard runs (this process, a Dask worker), on its
    device. No items: an empty table with the columns of a full one."""
    where = pick_device(device)
    batches = [f for _, f in batch_features(extractor, images, start, start + len(meta), batch_size, where, precision)]
    if not batches:
        with torch.no_grad():
            width = extractor(torch.zeros(1, *images.shape[1:])).shape[1]  # one blank item: networks refuse none
        batches = [np.zeros((0, width), np.float32)]
    features = np.concatenate(batches)
    frame = pd.concat([meta, pd.DataFrame(features, columns=feature_names(features.shape[1]))], axis=1)
    return pa.Table.from_pandas(frame, preserve_index=False)
