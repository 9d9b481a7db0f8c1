"""The preprocessing stream: illumination-corrected, resized or downscaled, clipped and optionally
z-scored fields, plate by plate, in that order (WS-DINO's: divide by the plate's function, bicubic
resize to 640 x 512, clip at 10,000, z-score each field).

Shards of a plate's fields are preprocessed where the shard executor runs them (local worker
processes or a Dask cluster, :mod:`cell_dino.core.executor`) into scratch arrays beside the output,
then streamed into the FOV store in manifest order, so the store is the same however many workers
ran. A shard is a whole plate where its illumination function is estimated (the function needs
every field of the plate), else at most ``fields_per_shard`` fields of one plate. Each worker holds
one illumination function and one field at a time, and at most two finished shards per worker
wait on disk. A plate's fields are read once to estimate its function and once more to correct
them, as CellProfiler's separate illumination pipelines do; with a screen's saved functions
(``illumination_functions: loaddata``), or without correction, once.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import zarr
from pydantic import Field
from tqdm import tqdm

from cell_dino.core.config import Count, NonNegativeInt, Positive, settings
from cell_dino.core.executor import ExecutorConfig, ordered_map, shard_executor
from cell_dino.data import manifest as mf
from cell_dino.data.channels import ChannelSpec
from cell_dino.data.errors import DataError
from cell_dino.data.fov_store import write_fov_store
from cell_dino.data.readers import BlankChannelError, image_header, read_fov
from cell_dino.ingest.illumination import (
    IlluminationAccumulator,
    Rescale,
    Smoothing,
    correct_illumination,
    function_range,
    illumination_function,
    read_illumination_function,
)
from cell_dino.ingest.normalisation import ChannelStatsAccumulator, centre_pad, downscale, resize_field

log = logging.getLogger(__name__)
QC_FUNCTION_STRIDE = 8


@settings
class PreprocessConfig:
    """How raw fields become stored fields."""

    illumination: bool = True
    illumination_functions: Literal["estimate", "loaddata"] = "estimate"  # loaddata: each plate's saved functions (Illum columns)
    smoothing: Smoothing = "polynomial"
    polynomial_degree: NonNegativeInt = 2
    smoothing_sigma: Positive = 50.0  # pixels (smoothing: gaussian)
    rescale: Rescale = "robust_minimum"  # CellProfiler's "Rescale the illumination function?": Yes | Median
    max_illumination_range: Annotated[float, Field(ge=1)] = 3.0  # functions spanning more (max / min) are reported as extreme
    clip_percentile: Annotated[float, Field(gt=0, le=100)] = 99.0
    pad_to: tuple[Count, Count] | None = None  # (height, width): each field centred on a zero canvas (cut where larger); single-cell crops
    resize_to: tuple[Count, Count] | None = None  # (height, width) for every field, bicubic, after correction; None: one size, kept
    downscale: Count = 1
    clip_max: Positive | None = None
    per_image_zscore: bool = False  # each field and channel to mean 0, sd 1 after clipping (WS-DINO)
    on_error: Literal["raise", "skip"] = "raise"
    fields_per_shard: Count = 32  # fields per task where no function is estimated (estimating one takes the whole plate: one task)

    def __post_init__(self) -> None:
        if self.pad_to is not None and self.illumination and self.illumination_functions == "estimate":
            raise ValueError(
                "preprocess.pad_to is for single-cell crops of different sizes, which no illumination function fits: set illumination: false"
            )


def per_image_zscore(field: np.ndarray) -> np.ndarray:
    """Each channel of a ``C x H x W`` field to mean 0 and standard deviation 1 (a channel without
    spread to 0)."""
    mean = field.mean(axis=(1, 2), keepdims=True)
    std = field.std(axis=(1, 2), keepdims=True)
    return ((field - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)


@dataclass
class SkippedFov:
    fov: str
    row: int
    reason: str
    plate: str | None = None
    channel: str | None = None  # a blank channel


def most_common_header(manifest: pd.DataFrame, channels: ChannelSpec) -> tuple[tuple[int, ...], np.dtype] | None:
    """The image size and pixel type most of the manifest's fields declare (headers only; first channel)."""
    headers = [image_header(paths[0]) for paths in (mf.image_paths(row, channels) for _, row in manifest.iterrows())]
    counts = Counter((shape, str(dtype)) for shape, dtype in filter(None, headers))
    return counts.most_common(1)[0][0] if counts else None


Header = tuple[tuple[int, ...], str]  # a field's size and pixel type


@dataclass
class ShardResult:
    """What preprocessing one shard gives back: its stored fields' keys (their pixels are in the
    scratch array at ``location``), channel statistics, skipped fields and its plate's illumination QC."""

    plate: str
    location: str
    keys: list[str]
    stats: ChannelStatsAccumulator
    skipped: list[SkippedFov]
    function: np.ndarray | None  # the illumination function, subsampled for QC
    function_range: dict[str, float] | None  # max / min of the function, per channel


@dataclass
class ShardPreprocessing:
    """The work of one shard (a worker's task): read, correct and write the fields of one plate."""

    channels: ChannelSpec
    config: PreprocessConfig
    common: Header | None  # the data set's most common field size and pixel type
    seed: int = 0  # the shard's position: its own stream of pixel samples for the statistics
    skipped: list[SkippedFov] = field(default_factory=list)

    def read(self, row: int, fov: pd.Series) -> np.ndarray | None:
        """The raw field of manifest ``row``; ``None`` (recorded as skipped) when it is unusable
        and ``on_error: skip``, else raises :class:`DataError` naming the row and the file."""
        paths = mf.image_paths(fov, self.channels)
        try:
            image = read_fov(paths, mf.image_planes(fov, self.channels))
            header = image_header(paths[0])
            if self.common is not None and header is not None and str(header[1]) != self.common[1]:
                raise DataError(
                    f"{paths[0]}: {header[1]} pixels while most of the data set is {self.common[1]}: intensities would not compare"
                )
            if self.common is not None and image.shape[1:] != self.common[0] and self.config.pad_to is None:
                if self.config.resize_to is None:
                    raise DataError(
                        f"{paths[0]}: field size {image.shape[1:]} differs from the data set's most common size {self.common[0]} "
                        "(set preprocess.resize_to to resize every field, or pad_to to pad them)"
                    )
                return resize_field(image, self.common[0])  # its plate's illumination function is estimated at this size
            return image
        except DataError as exc:
            if self.config.on_error == "raise":
                raise DataError(f"manifest row {row} ({fov[mf.FOV_KEY]}): {exc}") from exc
            log.warning("skipping FOV %s: %s", fov[mf.FOV_KEY], exc)
            channel = self.channels.names[exc.channel] if isinstance(exc, BlankChannelError) else None
            plate = str(fov[mf.PLATE]) if mf.PLATE in fov else None
            self.skipped.append(SkippedFov(str(fov[mf.FOV_KEY]), int(row), str(exc), plate, channel))
            return None

    def saved_function(self, plate: str, rows: pd.DataFrame) -> np.ndarray:
        """The plate's functions named by its rows (one per channel), read and checked."""
        locations = []
        for channel in self.channels:
            named = rows[mf.illumination_column(channel)].unique()
            if len(named) != 1:
                raise DataError(
                    f"plate {plate}: {len(named)} illumination functions for channel {channel} ({list(named)[:3]}); one per plate expected"
                )
            locations.append(str(named[0]))
        return read_illumination_function(locations, None if self.common is None else self.common[0])

    def plate_function(self, plate: str, rows: pd.DataFrame) -> tuple[np.ndarray | None, set[int]]:
        """The plate's illumination function (``None``: no usable field) and the rows that failed."""
        c, failed = self.config, set()
        if c.illumination_functions == "loaddata":
            return self.saved_function(plate, rows), failed
        accumulator = IlluminationAccumulator(c.clip_percentile)
        for row, fov in rows.iterrows():
            image = self.read(row, fov)
            if image is None:
                failed.add(row)
            else:
                accumulator.add(image)
        if accumulator.count == 0:
            return None, failed
        return illumination_function(accumulator.mean(), c.smoothing, c.smoothing_sigma, c.polynomial_degree, c.rescale), failed

    def prepare(self, image: np.ndarray, function: np.ndarray | None) -> np.ndarray:
        c = self.config
        if function is not None:
            image = correct_illumination(image, function)
        if c.pad_to is not None:
            image = centre_pad(image, c.pad_to)
        if c.resize_to is not None:
            image = resize_field(image, c.resize_to)
        image = downscale(image, c.downscale)
        if c.clip_max is not None:
            image = np.minimum(image, c.clip_max)
        return per_image_zscore(image) if c.per_image_zscore else image

    def __call__(self, plate: str, rows: pd.DataFrame, location: str) -> ShardResult:
        """Preprocess ``rows`` (fields of one plate of the manifest) into a new array at ``location``."""
        function, failed = self.plate_function(plate, rows) if self.config.illumination else (None, set())
        stats, keys, fields = ChannelStatsAccumulator(list(self.channels.names), self.seed), [], None
        for row, fov in rows.iterrows():
            image = None if row in failed else self.read(row, fov)
            if image is None:
                continue
            image = self.prepare(image, function)
            if fields is None:
                if not Path(location).parent.is_dir():
                    raise RuntimeError(f"{location}: the ingest run this shard belongs to has ended")
                fields = zarr.create_array(  # uncompressed: read back once, then deleted
                    location, shape=(len(rows), *image.shape), chunks=(1, 1, *image.shape[1:]), dtype="float32", compressors=None
                )
            stats.add(image)
            fields[len(keys)] = image
            keys.append(str(fov[mf.FOV_KEY]))
        qc = None if function is None else function[:, ::QC_FUNCTION_STRIDE, ::QC_FUNCTION_STRIDE].copy()
        spread = None if function is None else dict(zip(self.channels.names, function_range(function), strict=True))
        return ShardResult(plate, location, keys, stats, self.skipped, qc, spread)


def preprocess_shard(work: ShardPreprocessing, plate: str, rows: pd.DataFrame, location: str) -> ShardResult:
    """Worker entry point: one shard's task."""
    return work(plate, rows, location)


@dataclass
class PreprocessingJob:
    """A lazy, single-use stream of ``(fov_key, C x H x W float32)`` over a validated manifest,
    plate by plate, each plate preprocessed on the ``runtime`` executor.

    After iteration, :meth:`summary` gives the channel statistics, the skipped fields and the
    timing; ``illumination_functions`` holds each plate's function, subsampled for QC.
    """

    manifest: pd.DataFrame
    channels: ChannelSpec
    config: PreprocessConfig
    runtime: ExecutorConfig = field(default_factory=ExecutorConfig)
    scratch: Path | None = None  # where plates wait between their worker and the store (beside the output; None: the system's)
    skipped: list[SkippedFov] = field(default_factory=list)
    illumination_functions: dict[str, np.ndarray] = field(default_factory=dict)
    illumination_range: dict[str, dict[str, float]] = field(default_factory=dict)
    _stats: ChannelStatsAccumulator | None = None
    _seconds: float = 0.0
    _common: Header | None = None  # the most common field size and pixel type, known once iteration begins

    @property
    def capacity(self) -> int:
        return len(self.manifest)

    @property
    def storage_dtype(self) -> str:
        """The source's pixel type (uint8, uint16) where preprocessing keeps values whole (no
        correction, resampling, clipping or z-scoring; zero padding is whole), else float32."""
        c = self.config
        whole = not (c.illumination or c.resize_to or c.downscale != 1 or c.clip_max is not None or c.per_image_zscore)
        source = None if self._common is None else self._common[1]
        return source if whole and source in ("uint8", "uint16") else "float32"

    def _shards(self) -> list[tuple[str, pd.DataFrame]]:
        """``(plate, rows)`` of every shard, in manifest plate order: whole plates where their
        functions are estimated, else runs of at most ``fields_per_shard`` fields of a plate."""
        c = self.config
        plates = (
            [(str(p), rows) for p, rows in self.manifest.groupby(mf.PLATE, sort=False, dropna=False)]
            if mf.PLATE in self.manifest
            else [("all", self.manifest)]  # HPA: Kaggle images have no plate
        )
        if c.illumination and c.illumination_functions == "estimate":
            return plates
        size = c.fields_per_shard
        return [(plate, rows.iloc[i : i + size]) for plate, rows in plates for i in range(0, len(rows), size)]

    def __post_init__(self) -> None:
        if self.config.illumination and self.config.illumination_functions == "loaddata":
            absent = [c for c in self.channels if mf.illumination_column(c) not in self.manifest]
            if absent:
                raise DataError(
                    f"preprocess.illumination_functions: loaddata, but the table has no illumination function for channel(s) {absent} "
                    "(FileName_Illum<X> / PathName_Illum<X> or URL_Illum<X> columns, as in load_data_with_illum.csv)"
                )

    def _record(self, result: ShardResult) -> None:
        """Take in a shard's statistics, skipped fields and illumination QC; warn about extreme
        functions (once per plate)."""
        c = self.config
        self._stats.merge(result.stats)
        self.skipped += result.skipped
        if result.function is None or result.plate in self.illumination_functions:
            return
        self.illumination_functions[result.plate] = result.function
        self.illumination_range[result.plate] = result.function_range
        for channel, spread in result.function_range.items():
            if spread > c.max_illumination_range:
                log.warning(
                    "plate %s, channel %s: the illumination function spans %.1fx (above %.1fx): the plate's mean image "
                    "holds signal, not only illumination",
                    result.plate,
                    channel,
                    spread,
                    c.max_illumination_range,
                )

    def __iter__(self) -> Iterator[tuple[str, np.ndarray]]:
        start = time.perf_counter()
        self._stats = ChannelStatsAccumulator(list(self.channels.names))
        common = self._common = most_common_header(self.manifest, self.channels)
        shards = self._shards()
        progress = tqdm(total=len(self.manifest), desc="ingest", unit="FOV", leave=False, disable=None)
        # named as an interrupted write (.<name>.tmp-<hex>): a killed run's scratch is cleared by the next run
        scratch = (self.scratch or Path(tempfile.gettempdir())) / f".ingest-shards.tmp-{uuid.uuid4().hex[:8]}"
        scratch.mkdir(parents=True)
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(shutil.rmtree, scratch, ignore_errors=True)  # after the executor has stopped
            executor = cleanup.enter_context(shard_executor(self.runtime))
            tasks = [ShardPreprocessing(self.channels, self.config, common, seed) for seed in range(len(shards))]
            locations = [str(scratch / f"shard-{i:05d}.zarr") for i in range(len(shards))]
            plates, rows = zip(*shards)
            results = ordered_map(executor, preprocess_shard, tasks, plates, rows, locations)
            for plate_rows, result in zip(rows, results, strict=True):
                self._record(result)
                fields = zarr.open_array(result.location, mode="r") if result.keys else None
                for i, key in enumerate(result.keys):
                    yield key, fields[i]
                progress.update(len(plate_rows))
                shutil.rmtree(result.location, ignore_errors=True)
        progress.close()
        self._seconds = time.perf_counter() - start

    def run(self, path: Path) -> None:
        """Consume the stream into a new FOV store at ``path``, atomically: the job protocol."""
        self.scratch = Path(path).parent
        write_fov_store(path, self)

    def summary(self) -> dict:
        """Attributes of the finished stream, JSON-serialisable: channel statistics, skipped fields,
        blank channels per plate, each plate's illumination range and the extreme ones."""
        if self._stats is None:
            raise RuntimeError("the stream has not been consumed yet")
        blank = Counter((s.plate, s.channel) for s in self.skipped if s.channel is not None)
        extreme = [
            {"plate": plate, "channel": channel, "range": spread}
            for plate, ranges in self.illumination_range.items()
            for channel, spread in ranges.items()
            if spread > self.config.max_illumination_range
        ]
        return {
            "channels": list(self.channels.names),
            "stats": self._stats.result().as_dict() if self._stats.n else None,
            "preprocess": asdict(self.config),
            "skipped": [asdict(s) for s in self.skipped],
            "blank_channels": [
                {"plate": plate, "channel": channel, "n_fields": n} for (plate, channel), n in sorted(blank.items(), key=str)
            ],
            "illumination_range": self.illumination_range,
            "extreme_illumination": extreme,
            "seconds": self._seconds,
        }
