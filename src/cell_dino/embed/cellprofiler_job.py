"""The CellProfiler-features job: every segmented field measured (:func:`measure_field`), streamed
by shards of fields to resumable parquet parts, one row per crop-store cell in the store's order
(``Metadata_*`` and ``Metadata_Index`` as an embedding has them); then features selected as
pycytominer selects them (``feature_select``: missing in too many cells, near-constant, highly
correlated) on a seeded sample of cells, and the parts published with the kept features.

The output folder reads like an embedding (:func:`cell_dino.embed.artifacts.read_embeddings`),
so the ``cellprofiler`` model goes through integrate, evaluate and profile as the learned ones do.
Memory holds one shard of measurements, then the selection sample.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from pycytominer import feature_select
from tqdm import tqdm

from cell_dino.core.executor import ExecutorConfig, ordered_map, shard_executor
from cell_dino.core.generation import fingerprint
from cell_dino.core.jobs import ResumableParts
from cell_dino.core.reporting import peak_rss_mb
from cell_dino.data.errors import DataError
from cell_dino.data.held import held_array, require_held
from cell_dino.data.items import OnError
from cell_dino.embed.artifacts import PARTS, REPORT, parts_record
from cell_dino.embed.cellprofiler import SHAPE_GROUPS, CellProfilerConfig, NonFiniteField, measure_stored_field
from cell_dino.embed.embedding_job import item_metadata
from cell_dino.integrate.table import METADATA_PREFIX

log = logging.getLogger(__name__)


@dataclass
class CellProfilerJob:
    """Measurements of every cell of ``cells`` (the crop store's table: ``fov_index``, ``label``)
    on ``images[fov_index]`` (``N x C x H x W``, the FOV store) with ``masks[fov_index]``
    (``N x 2 x H x W``: nuclei, cells); ``fields``: the fields measured (None: every one; the
    stores must then hold all their files), ``cells`` only theirs."""

    images: Any
    masks: Any
    cells: pd.DataFrame
    channels: list[str]
    config: CellProfilerConfig
    signature: dict[str, Any]  # what makes two jobs identical (store generations): resume only then
    seed: int = 0
    runtime: ExecutorConfig = ExecutorConfig()  # where the fields are measured (local processes or a Dask cluster)
    report: dict[str, Any] = field(default_factory=dict)
    fields: list[int] | None = None
    meta: pd.DataFrame = field(init=False, repr=False)  # every cell's Metadata_* and Metadata_Index, made once

    def __post_init__(self) -> None:
        if self.fields is None:
            require_held(self.images, self.masks)
        if self.images.shape[0] != self.masks.shape[0]:
            raise ValueError(f"CellProfiler features: {self.images.shape[0]} fields but masks of {self.masks.shape[0]}")
        outside = self.cells.index[~self.cells["fov_index"].between(0, self.images.shape[0] - 1)]
        if len(outside):
            raise DataError(
                f"CellProfiler features: cell table row(s) {list(outside[:5])} name fields beyond the {self.images.shape[0]} stored"
            )
        self.meta = item_metadata(self.cells)

    def _measure_shard(self, fields: list[int], measurements: Iterator[pd.DataFrame]) -> pd.DataFrame:
        """The shard's rows: each field's measurements (taken from the stream, in field order)
        joined to its cells in the table; raises :class:`DataError` naming a field with
        non-finite pixels or cells without a label in their mask."""
        try:
            measured = [next(measurements) for _ in fields]
        except NonFiniteField as error:
            fov = (
                self.cells.loc[self.cells["fov_index"] == error.index, "Metadata_FOV"].head(1).tolist()
                if "Metadata_FOV" in self.cells
                else []
            )
            raise DataError(f"CellProfiler features: field {error.index} {fov} has non-finite pixels") from error
        features = pd.concat([frame.assign(fov_index=i) for i, frame in zip(fields, measured)], ignore_index=True)
        rows = self.cells["fov_index"].isin(fields).to_numpy()
        joined = self.cells.loc[rows, ["fov_index", "label"]].merge(features, on=["fov_index", "label"], how="left", indicator=True)
        unmatched = joined.loc[joined["_merge"] == "left_only", ["fov_index", "label"]]
        if len(unmatched):
            pairs = list(unmatched.itertuples(index=False, name=None))[:5]
            raise DataError(
                f"CellProfiler features: {len(unmatched)} cell(s) of the table have no label in their field's mask: (field, label) {pairs}"
            )
        features = joined.drop(columns=["fov_index", "label", "_merge"])
        return pd.concat([self.meta[rows].reset_index(drop=True), features], axis=1)

    def run(self, path: Path) -> None:
        """Measure every field into the folder ``path`` (resuming finished shards): the job protocol."""
        c = self.config  # what the measurements depend on; the selection settings apply when publishing
        measuring = {"groups": c.groups, "intensity_scale": c.intensity_scale, "fields_per_shard": c.fields_per_shard}
        measured_fields = list(range(self.images.shape[0])) if self.fields is None else list(self.fields)
        signature = {**self.signature, "measuring": measuring, "n": len(self.cells), "fields": self.fields}
        parts = ResumableParts(Path(path), fingerprint(signature))
        n_fields, started, done = len(measured_fields), time.perf_counter(), 0
        with (
            shard_executor(self.runtime) as executor,
            tqdm(total=n_fields, desc="CellProfiler features", unit="field", disable=None) as progress,
        ):
            shards = [
                (f"part-{s:05d}.parquet", measured_fields[a : a + c.fields_per_shard]) for s, a in enumerate(range(0, n_fields, c.fields_per_shard))
            ]
            todo = [i for name, fields in shards if name not in parts.done() for i in fields]  # streamed across shard boundaries
            n = len(todo)
            measurements = ordered_map(
                executor, measure_stored_field, [self.images] * n, [self.masks] * n, todo, [self.channels] * n, [self.config] * n
            )
            for name, fields in shards:
                if name not in parts.done():
                    with parts.part(name) as tmp:
                        self._measure_shard(fields, measurements).to_parquet(tmp, index=False)
                    done += len(fields)
                progress.update(len(fields))
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
                if not table.num_rows:  # a shard of fields without cells
                    continue
                pq.write_table(table.select([c for c in table.column_names if c.startswith(METADATA_PREFIX) or c in kept]), tmp / part.name)
            (tmp / REPORT).write_text(json.dumps({**self.report, PARTS: parts_record(tmp)}, default=str))

        parts.publish(assemble)
        log.info("CellProfiler features of %d cells: %d of %d kept (%s)", len(self.cells), len(kept), len(measured), path)

    def selected_features(self, parts: list[Path]) -> tuple[set[str], list[str]]:
        """``(kept, measured)`` feature names: pycytominer's ``feature_select`` with the configured
        operations on a seeded sample of at most ``selection_max_items`` cells (none: all kept)."""
        c = self.config
        names = [n for p in parts for n in pq.read_schema(p).names if not n.startswith(METADATA_PREFIX)]
        measured = list(dict.fromkeys(names))  # every shard's, in order (a shard without cells has none)
        if not measured:
            raise DataError(f"CellProfiler features: no cells to measure in {self.images.shape[0]} field(s)")
        if not c.selection:
            return set(measured), measured
        share = min(1.0, c.selection_max_items / len(self.cells))
        sample = pd.concat([pd.read_parquet(p).sample(frac=share, random_state=self.seed) for p in parts], ignore_index=True)
        try:
            selected = feature_select(
                sample, features=measured, operation=list(c.selection), na_cutoff=c.na_cutoff, corr_threshold=c.corr_threshold
            )
        except ValueError as error:  # e.g. one cell, or every feature constant
            raise DataError(
                f"CellProfiler features: pycytominer's feature selection {list(c.selection)} failed on {len(sample)} cell(s) "
                f"({error}); embed.cellprofiler.selection: [] keeps every feature"
            ) from error
        return {f for f in measured if f in selected.columns}, measured


def cellprofiler_job(
    crop_store: Any,
    fov_store: Any,
    config: CellProfilerConfig,
    seed: int,
    runtime: ExecutorConfig = ExecutorConfig(),
    on_error: OnError = "raise",
) -> CellProfilerJob:
    """The job measuring every cell of ``crop_store`` on the fields of ``fov_store``. Fields that
    ingest z-scored per image (the WS-DINO recipe) have no intensity units: only the shape groups
    (masks alone) are measured then, the others are logged and recorded as skipped with the reason;
    raises :class:`DataError` when no shape group is configured. Fields whose image or mask files
    are missing raise :class:`~cell_dino.data.held.MissingItemsError` (``on_error: raise``) or are
    left out with their cells, counted in the report (``skip``)."""
    skipped = {}
    if fov_store.attrs.get("preprocess", {}).get("per_image_zscore"):
        reason = f"{fov_store.path} holds per-image z-scored fields (ingest.preprocess.per_image_zscore): no intensity units"
        shape = tuple(g for g in config.groups if g in SHAPE_GROUPS)
        if not shape:
            raise DataError(f"CellProfiler features: {reason}, and embed.cellprofiler.groups has no shape group {SHAPE_GROUPS}")
        skipped = {g: reason for g in config.groups if g not in shape}
        log.warning("CellProfiler features: %s; measuring %s only", reason, list(shape))
        config = dataclasses.replace(config, groups=shape)
    signature = {"crop_store": crop_store.generation, "fov_store": fov_store.generation}
    channels, cells, fields = list(crop_store.channels.names), crop_store.table(), None
    held = [held_array(a) for a in (fov_store.images, crop_store.masks)]
    missing = [h for h in held if h is not None and h.n_missing]
    if missing and on_error == "skip":
        fields = np.flatnonzero(np.logical_and.reduce([h.held for h in missing])).tolist()
        kept = cells["fov_index"].isin(fields)
        log.warning("on_error: skip: %d of %d fields (%d cells) left out of CellProfiler features", len(fov_store.images) - len(fields),
                    len(fov_store.images), int((~kept).sum()))
        cells = cells.loc[kept].reset_index(drop=True)
    job = CellProfilerJob(fov_store.images, crop_store.masks, cells, channels, config, signature, seed, runtime, fields=fields)
    job.report.update({"skipped_groups": skipped, "n_items_skipped": len(crop_store.table()) - len(cells)})
    return job
