"""The CellProfiler-features job: every segmented field measured (:func:`measure_field`), streamed
by shards of fields to resumable parquet parts, one row per crop-store cell in the store's order
(``Metadata_*`` and ``Metadata_Index`` as an embedding has them); then features selected as
pycytominer selects them (``feature_select``: missing in too many cells, near-constant, highly
correlated) on a seeded sample of cells, and the parts published with the kept features.

The output folder reads like an embedding (:func:`cell_dino.features.artifacts.read_embeddings`),
so the ``cellprofiler`` model goes through integrate, evaluate and profile as the learned ones do.
Memory holds one shard of measurements, then the selection sample.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from pycytominer import feature_select
from tqdm import tqdm

from cell_dino.features.artifacts import REPORT
from cell_dino.features.cellprofiler import CellProfilerConfig, measure_field
from cell_dino.features.job import INDEX, item_metadata
from cell_dino.generation import fingerprint
from cell_dino.jobs import ResumableParts
from cell_dino.profiling.table import METADATA_PREFIX
from cell_dino.reporting import peak_rss_mb

log = logging.getLogger(__name__)


@dataclass
class CellProfilerJob:
    """Measurements of every cell of ``cells`` (the crop store's table: ``fov_index``, ``label``)
    on ``images[fov_index]`` (``N x C x H x W``, the FOV store) with ``masks[fov_index]``
    (``N x 2 x H x W``: nuclei, cells)."""

    images: Any
    masks: Any
    cells: pd.DataFrame
    channels: list[str]
    config: CellProfilerConfig
    signature: dict[str, Any]  # what makes two jobs identical (store generations): resume only then
    seed: int = 0
    report: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.images.shape[0] != self.masks.shape[0]:
            raise ValueError(f"CellProfiler features: {self.images.shape[0]} fields but masks of {self.masks.shape[0]}")

    def _measure_shard(self, fields: range, pool: ProcessPoolExecutor | None) -> pd.DataFrame:
        args = [(self.images[i], self.masks[i], self.channels, self.config) for i in fields]
        measured = pool.map(measure_field, *zip(*args)) if pool else (measure_field(*a) for a in args)
        frames = [frame.assign(fov_index=i) for i, frame in zip(fields, measured)]
        cells = self.cells.assign(**{INDEX: np.arange(len(self.cells))})
        cells = cells[cells["fov_index"].between(fields.start, fields.stop - 1)]
        features = pd.concat(frames, ignore_index=True)
        joined = cells[["fov_index", "label"]].merge(features, on=["fov_index", "label"], how="left")
        return pd.concat(
            [item_metadata(self.cells).loc[cells[INDEX]].reset_index(drop=True), joined.drop(columns=["fov_index", "label"])], axis=1
        )

    def run(self, path: Path) -> None:
        """Measure every field into the folder ``path`` (resuming finished shards): the job protocol."""
        per_shard = self.config.fields_per_shard
        parts = ResumableParts(Path(path), fingerprint({**self.signature, "config": asdict(self.config), "n": len(self.cells)}))
        n_fields, started, done = self.images.shape[0], time.perf_counter(), 0
        pool = ProcessPoolExecutor(self.config.workers) if self.config.workers > 1 else None
        try:
            with tqdm(total=n_fields, desc="CellProfiler features", unit="field", disable=None) as progress:
                for shard, start in enumerate(range(0, n_fields, per_shard)):
                    name, fields = f"part-{shard:05d}.parquet", range(start, min(start + per_shard, n_fields))
                    if name not in parts.done():
                        with parts.part(name) as tmp:
                            self._measure_shard(fields, pool).to_parquet(tmp, index=False)
                        done += len(fields)
                    progress.update(len(fields))
        finally:
            if pool:
                pool.shutdown()
        seconds = time.perf_counter() - started
        names = sorted(parts.folder.glob("part-*.parquet"))
        kept, measured = self.selected_features(names)
        self.report.update(
            {
                "n_items": len(self.cells),
                "n_fields": n_fields,
                "n_measured_now": done,
                "seconds": seconds,
                "fields_per_second": done / seconds if seconds > 0 else 0.0,
                "peak_rss_mb": peak_rss_mb(),
                "n_features_measured": len(measured),
                "n_features_kept": len(kept),
                "config": asdict(self.config),
            }
        )

        def assemble(tmp: Path) -> None:
            tmp.mkdir()
            for part in names:
                table = pq.read_table(part)
                pq.write_table(table.select([c for c in table.column_names if c.startswith(METADATA_PREFIX) or c in kept]), tmp / part.name)
            (tmp / REPORT).write_text(json.dumps(self.report, default=str))

        parts.publish(assemble)
        log.info("CellProfiler features of %d cells: %d of %d kept (%s)", len(self.cells), len(kept), len(measured), path)

    def selected_features(self, parts: list[Path]) -> tuple[set[str], list[str]]:
        """``(kept, measured)`` feature names: pycytominer's ``feature_select`` with the configured
        operations on a seeded sample of at most ``selection_max_items`` cells (none: all kept)."""
        c = self.config
        measured = [name for name in pq.read_schema(parts[0]).names if not name.startswith(METADATA_PREFIX)] if parts else []
        if not c.selection:
            return set(measured), measured
        share = min(1.0, c.selection_max_items / max(len(self.cells), 1))
        sample = pd.concat([pd.read_parquet(p).sample(frac=share, random_state=self.seed) for p in parts], ignore_index=True)
        selected = feature_select(
            sample, features=measured, operation=list(c.selection), na_cutoff=c.na_cutoff, corr_threshold=c.corr_threshold
        )
        return {f for f in measured if f in selected.columns}, measured
