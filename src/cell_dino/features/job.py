"""Embedding jobs: features of every stored item streamed to sharded parquet, resumable by shard.

Shards of ``shard_size`` items are written (one row group per batch) as resumable parts
(:class:`cell_dino.jobs.ResumableParts`, under the fingerprint of the checkpoint files, the store's
generation, the feature settings, the device and the precision); a re-run of the same job skips
finished shards. When all are done the folder is published atomically as the output (a parquet
dataset folder).
``_embedding.json`` in the folder records the run (items per second, peak memory, what was embedded).
Memory holds one batch of images and one shard of features, whatever the number of items.
"""

from __future__ import annotations

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

from cell_dino.features.artifacts import REPORT, feature_names
from cell_dino.generation import fingerprint
from cell_dino.jobs import ResumableParts
from cell_dino.reporting import peak_rss_mb
from cell_dino.runtime import Precision, autocast, pick_device

log = logging.getLogger(__name__)
INDEX = "Metadata_Index"


def item_metadata(table: pd.DataFrame) -> pd.DataFrame:
    """The ``Metadata_*`` columns of an item table plus ``Metadata_Index`` (row in the store)."""
    meta = table[[c for c in table.columns if c.startswith("Metadata_")]].reset_index(drop=True)
    return meta.assign(**{INDEX: np.arange(len(meta))})


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
    report: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.table) != self.images.shape[0]:
            raise ValueError(f"embedding job: {len(self.table)} table rows for {self.images.shape[0]} images")
        if self.shard_size % self.batch_size:
            raise ValueError(f"embed shard_size {self.shard_size} must be a multiple of batch_size {self.batch_size}")

    def features(self, start: int, stop: int, device: torch.device | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """``(first index, features)`` of each batch of items ``start:stop``."""
        device = device or pick_device(self.device)
        self.extractor.to(device).eval()
        for first in range(start, stop, self.batch_size):
            batch = torch.from_numpy(np.asarray(self.images[first : min(first + self.batch_size, stop)], dtype=np.float32))
            with autocast(device, self.precision):
                yield first, self.extractor(batch.to(device)).float().cpu().numpy()

    def _write_shard(self, path: Path, meta: pd.DataFrame, start: int, stop: int, device: torch.device, progress: tqdm) -> None:
        writer = None
        for first, features in self.features(start, stop, device):
            rows = meta.iloc[first : first + len(features)].reset_index(drop=True)
            frame = pa.Table.from_pandas(
                pd.concat([rows, pd.DataFrame(features, columns=feature_names(features.shape[1]))], axis=1), preserve_index=False
            )
            writer = writer or pq.ParquetWriter(path, frame.schema)
            writer.write_table(frame)
            progress.update(len(features))
        if writer is None:  # no items: an empty table with the columns of a full one
            width = self.extractor(torch.zeros(1, *self.images.shape[1:])).shape[1]  # one blank item: networks refuse none
            empty = pd.concat([meta.iloc[:0], pd.DataFrame(columns=feature_names(width), dtype=np.float32)], axis=1)
            pq.write_table(pa.Table.from_pandas(empty, preserve_index=False), path)
            return
        writer.close()

    def run(self, path: Path) -> None:
        """Embed every item into the folder ``path`` (resuming finished shards): the job protocol."""
        parts = ResumableParts(Path(path), fingerprint({**self.signature, "n": len(self.table), "shard": self.shard_size}))
        device = pick_device(self.device)
        n, meta, started, done = len(self.table), item_metadata(self.table), time.perf_counter(), 0
        with tqdm(total=n, desc="embed", unit="item", disable=None) as progress:
            for shard, start in enumerate(range(0, n, self.shard_size) or [0]):  # no items: one empty shard
                name, stop = f"part-{shard:05d}.parquet", min(start + self.shard_size, n)
                if name in parts.done():
                    progress.update(stop - start)
                    continue
                with parts.part(name) as tmp:
                    self._write_shard(tmp, meta, start, stop, device, progress)
                done += stop - start
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
            (tmp / REPORT).write_text(json.dumps(self.report, default=str))

        parts.publish(assemble)
        log.info("embedded %d items into %s (%.1f items/s)", n, path, self.report["items_per_second"])
