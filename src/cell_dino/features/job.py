"""Embedding jobs: features of every stored item streamed to sharded parquet, resumable by shard.

Shards of ``shard_size`` items are written (one row group per batch) into a hidden
``.<name>.parts`` folder beside the output; a re-run of the same job skips finished shards. When
all are done the folder is published atomically as the output (a parquet dataset folder).
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

from cell_dino.atomic import atomic_path
from cell_dino.features.artifacts import REPORT
from cell_dino.generation import fingerprint
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
        with atomic_path(path) as tmp:
            writer = None
            for first, features in self.features(start, stop, device):
                rows = meta.iloc[first : first + len(features)].reset_index(drop=True)
                columns = {f"f_{j:04d}": features[:, j] for j in range(features.shape[1])}
                frame = pa.Table.from_pandas(pd.concat([rows, pd.DataFrame(columns)], axis=1), preserve_index=False)
                writer = writer or pq.ParquetWriter(tmp, frame.schema)
                writer.write_table(frame)
                progress.update(len(features))
            writer.close()

    def __call__(self, path: str | Path) -> Path:
        path = Path(path)
        parts = path.with_name(f".{path.name}.parts")
        signature = fingerprint({**self.signature, "n": len(self.table), "shard": self.shard_size})
        stamp = parts / "job.json"
        if not (stamp.is_file() and json.loads(stamp.read_text())["signature"] == signature):
            if parts.exists():
                log.info("%s holds shards of another job (other model, inputs or settings): starting afresh", parts)
            shutil.rmtree(parts, ignore_errors=True)
            parts.mkdir(parents=True)
            stamp.write_text(json.dumps({"signature": signature}))
        device = pick_device(self.device)
        self.extractor.to(device).eval()
        n = len(self.table)
        meta = item_metadata(self.table)
        started = time.perf_counter()
        done = 0
        with tqdm(total=n, desc="embed", unit="item", disable=None) as progress:
            for shard, start in enumerate(range(0, n, self.shard_size)):
                shard_path = parts / f"part-{shard:05d}.parquet"
                stop = min(start + self.shard_size, n)
                if shard_path.is_file():
                    progress.update(stop - start)
                    continue
                self._write_shard(shard_path, meta, start, stop, device, progress)
                done += stop - start
        seconds = time.perf_counter() - started
        self.report.update({"n_items": n, "n_embedded_now": done, "seconds": seconds,
                            "items_per_second": done / seconds if seconds > 0 else 0.0, "peak_rss_mb": peak_rss_mb()})  # fmt: skip
        with atomic_path(path) as tmp:
            tmp.mkdir()
            for part in sorted(parts.glob("part-*.parquet")):
                shutil.move(part, tmp / part.name)
            (tmp / REPORT).write_text(json.dumps(self.report, default=str))
        shutil.rmtree(parts)
        log.info("embedded %d items into %s (%.1f items/s)", n, path, self.report["items_per_second"])
        return path
