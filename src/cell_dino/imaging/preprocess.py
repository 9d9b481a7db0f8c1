"""The preprocessing stream: illumination-corrected, downscaled, clipped fields, plate by plate.

Memory holds one plate's illumination function and one field at a time: the plate's fields are
read once to estimate the function and once more to correct them, as CellProfiler's separate
illumination pipelines do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from tqdm import tqdm

from cell_dino.data import manifest as mf
from cell_dino.data.channels import ChannelSpec
from cell_dino.data.errors import DataError
from cell_dino.data.readers import read_fov
from cell_dino.imaging.illumination import (
    IlluminationAccumulator,
    Smoothing,
    correct_illumination,
    illumination_function,
)
from cell_dino.imaging.normalisation import ChannelStatsAccumulator, downscale

log = logging.getLogger(__name__)
UINT16_MAX = float(np.iinfo(np.uint16).max)
QC_FUNCTION_STRIDE = 8


@dataclass(frozen=True)
class PreprocessConfig:
    """How raw fields become stored fields."""

    __pydantic_config__ = {"extra": "forbid"}  # typos in parameters fail validation

    illumination: bool = True
    smoothing: Smoothing = "polynomial"
    polynomial_degree: int = 2
    smoothing_sigma: float = 50.0
    clip_percentile: float = 99.0
    downscale: int = 1
    clip_max: float | None = None
    on_error: Literal["raise", "skip"] = "raise"

    def __post_init__(self) -> None:
        if self.smoothing_sigma <= 0 or not 0 < self.clip_percentile <= 100 or self.polynomial_degree < 0:
            raise ValueError("preprocess: smoothing_sigma > 0, 0 < clip_percentile <= 100, polynomial_degree >= 0")
        if self.downscale < 1 or (self.clip_max is not None and self.clip_max <= 0):
            raise ValueError(f"preprocess: downscale must be >= 1 ({self.downscale}), clip_max > 0 ({self.clip_max})")


@dataclass
class SkippedFov:
    fov: str
    row: int
    reason: str


@dataclass
class PreprocessedFovs:
    """A lazy, single-use stream of ``(fov_key, C x H x W float32)`` over a validated manifest.

    After iteration, :meth:`summary` gives the channel statistics, the skipped fields and the
    timing; ``illumination_functions`` holds each plate's function, subsampled for QC.
    """

    manifest: pd.DataFrame
    channels: ChannelSpec
    config: PreprocessConfig
    skipped: list[SkippedFov] = field(default_factory=list)
    illumination_functions: dict[str, np.ndarray] = field(default_factory=dict)
    _stats: ChannelStatsAccumulator | None = None
    _seconds: float = 0.0
    _shape: tuple[int, ...] | None = None

    @property
    def capacity(self) -> int:
        return len(self.manifest)

    def _groups(self) -> Iterator[tuple[str, pd.DataFrame]]:
        if mf.PLATE in self.manifest:
            yield from self.manifest.groupby(mf.PLATE, sort=False)
        else:
            yield "all", self.manifest

    def _read(self, row: int, fov: pd.Series) -> np.ndarray | None:
        try:
            image = read_fov(mf.image_paths(fov, self.channels))
            if self._shape is None:
                self._shape = image.shape
            elif image.shape != self._shape:
                raise DataError(
                    f"{mf.image_paths(fov, self.channels)[0]}: field shape {image.shape} differs from "
                    f"the data set's {self._shape}"
                )
            return image
        except DataError as exc:
            if self.config.on_error == "raise":
                raise DataError(f"manifest row {row} ({fov[mf.FOV_KEY]}): {exc}") from exc
            log.warning("skipping FOV %s: %s", fov[mf.FOV_KEY], exc)
            self.skipped.append(SkippedFov(str(fov[mf.FOV_KEY]), int(row), str(exc)))
            return None

    def _plate_function(self, plate: str, rows: pd.DataFrame) -> tuple[np.ndarray | None, set[int]]:
        accumulator = IlluminationAccumulator(self.config.clip_percentile)
        failed = set()
        for row, fov in rows.iterrows():
            image = self._read(row, fov)
            if image is None:
                failed.add(row)
            else:
                accumulator.add(image)
        if accumulator.count == 0:
            return None, failed
        function = illumination_function(
            accumulator.mean(), self.config.smoothing, self.config.smoothing_sigma, self.config.polynomial_degree
        )
        self.illumination_functions[plate] = function[:, ::QC_FUNCTION_STRIDE, ::QC_FUNCTION_STRIDE].copy()
        return function, failed

    def __iter__(self) -> Iterator[tuple[str, np.ndarray]]:
        start = time.perf_counter()
        upper = self.config.clip_max or UINT16_MAX
        self._stats = ChannelStatsAccumulator(list(self.channels.names), upper=upper)
        progress = tqdm(total=len(self.manifest), desc="ingest", unit="FOV", leave=False, disable=None)
        for plate, rows in self._groups():
            function, failed = self._plate_function(plate, rows) if self.config.illumination else (None, set())
            for row, fov in rows.iterrows():
                progress.update()
                image = None if row in failed else self._read(row, fov)
                if image is None:
                    continue
                if function is not None:
                    image = correct_illumination(image, function)
                image = downscale(image, self.config.downscale)
                if self.config.clip_max is not None:
                    image = np.minimum(image, self.config.clip_max)
                self._stats.add(image)
                yield str(fov[mf.FOV_KEY]), image
        progress.close()
        self._seconds = time.perf_counter() - start

    def summary(self) -> dict:
        """Attributes of the finished stream, JSON-serialisable."""
        if self._stats is None:
            raise RuntimeError("the stream has not been consumed yet")
        return {
            "channels": list(self.channels.names),
            "stats": self._stats.result().as_dict(),
            "preprocess": asdict(self.config),
            "skipped": [asdict(s) for s in self.skipped],
            "seconds": self._seconds,
        }
