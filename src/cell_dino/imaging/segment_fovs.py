"""Segment one field of an FOV store and cut its single-cell crops (the work of one worker process;
:mod:`cell_dino.imaging.segmentation_job` runs it over every field)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cell_dino.config import Positive, settings
from cell_dino.data.channels import ChannelSpec
from cell_dino.data.fov_store import FovStore
from cell_dino.imaging.cellpose_backend import require_cellpose, segment_with_cellpose
from cell_dino.imaging.crops import CropMode, cell_geometry, crop_cells
from cell_dino.imaging.segmentation import (
    CellConfig,
    NucleiConfig,
    cytoplasm_image,
    pair_objects,
    segment_cells,
    segment_nuclei,
)

FovStatus = Literal["ok", "empty", "blank", "nonfinite"]


@settings
class SegmentConfig:
    """How fields become masks and single-cell crops."""

    nuclei: NucleiConfig = field(default_factory=NucleiConfig)
    cells: CellConfig = field(default_factory=CellConfig)
    nuclei_channel: str = "DNA"
    backend: Literal["classical", "cellpose"] = "classical"
    cellpose_diameter: Positive | None = None
    crop_size: Annotated[int, Field(ge=8)] = 64
    crop_mode: CropMode = "masked"
    drop_border: bool = True

    def check(self, channels: ChannelSpec) -> None:
        """Fail before any work on channels the data lacks or a missing backend."""
        for name in (self.nuclei_channel, *self.cells.channels):
            if name not in channels.names:
                raise ValueError(f"segment: channel {name!r} not in the data's channels {list(channels.names)}")
        if self.backend == "cellpose":
            require_cellpose()


@dataclass
class FovSegmentation:
    """One field's result: masks, the geometry of its cropped cells, their crops, a status."""

    fov_index: int
    nuclei: np.ndarray
    cells: np.ndarray
    geometry: pd.DataFrame
    crops: np.ndarray
    status: FovStatus


def segment_field(field: np.ndarray, channels: ChannelSpec, config: SegmentConfig) -> tuple[np.ndarray, np.ndarray, FovStatus]:
    """Nuclei and cell label images of one ``C x H x W`` field, and a status."""
    status: FovStatus = "ok"
    if not np.all(np.isfinite(field)):
        field, status = np.nan_to_num(field, nan=0.0, posinf=0.0, neginf=0.0), "nonfinite"
    dna = field[channels.names.index(config.nuclei_channel)]
    cytoplasm = cytoplasm_image(field, [channels.names.index(c) for c in config.cells.channels])
    if float(np.ptp(dna)) == 0.0:
        empty = np.zeros(dna.shape, np.int32)
        return empty, empty, "blank"
    if config.backend == "cellpose":
        nuclei, cells = pair_objects(*segment_with_cellpose(dna, cytoplasm, config.cellpose_diameter, use_gpu=False))
    else:
        nuclei, cells = segment_cells(cytoplasm, segment_nuclei(dna, config.nuclei), config.cells)
    if cells.max() == 0 and status == "ok":
        status = "empty"
    return nuclei, cells, status


@cache
def _open_store(path: str) -> FovStore:
    return FovStore(path)


def process_fov(store_path: str, index: int, config: SegmentConfig) -> FovSegmentation:
    """Worker entry point: read one field, segment it, crop its cells."""
    store = _open_store(store_path)
    field_image = store[index]
    nuclei, cells, status = segment_field(field_image, store.channels, config)
    geometry = cell_geometry(nuclei, cells)
    if config.drop_border:
        geometry = geometry[~geometry["touches_border"]].reset_index(drop=True)
    crops = crop_cells(np.nan_to_num(field_image), cells, geometry, config.crop_size, config.crop_mode)
    return FovSegmentation(index, nuclei.astype(np.uint16), cells.astype(np.uint16), geometry, crops, status)
