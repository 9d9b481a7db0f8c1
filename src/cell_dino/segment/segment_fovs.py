"""Segment one field of an FOV store and cut its single-cell crops (the work of one worker process;
:mod:`cell_dino.segment.segmentation_job` runs it over every field)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cell_dino.core.config import Positive, settings
from cell_dino.data import manifest as mf
from cell_dino.data.channels import ChannelSpec
from cell_dino.data.fov_store import FovStore
from cell_dino.data.readers import read_image
from cell_dino.ingest.normalisation import centre_pad
from cell_dino.segment.cellpose_backend import require_cellpose, segment_with_cellpose
from cell_dino.segment.crops import CropMode, cell_geometry, crop_cells
from cell_dino.segment.segmentation import (
    CellConfig,
    NucleiConfig,
    cytoplasm_image,
    pair_objects,
    segment_cells,
    segment_nuclei,
)

FovStatus = Literal["ok", "empty", "blank", "nonfinite"]
MaskSources = tuple[tuple[str, int | None], tuple[str, int | None]]  # (nucleus, cell): a file location and its channel


@settings
class SegmentConfig:
    """How fields become masks and single-cell crops."""

    nuclei: NucleiConfig = field(default_factory=NucleiConfig)
    cells: CellConfig = field(default_factory=CellConfig)
    nuclei_channel: str = "DNA"
    backend: Literal["classical", "cellpose", "provided"] = (
        "classical"  # provided: each field's own masks (Metadata_CellMask / NucleusMask)
    )
    cellpose_diameter: Positive | None = None
    crop_size: Annotated[int, Field(ge=8)] = 64
    crop_mode: CropMode = "masked"
    drop_border: bool = True

    def check(self, channels: ChannelSpec) -> None:
        """Fail before any work on channels the data lacks or a missing backend."""
        for name in () if self.backend == "provided" else (self.nuclei_channel, *self.cells.channels):
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
def _open_store(path: str, generation: str) -> FovStore:
    """One handle per store and generation in each worker (a rewritten store gets a new one)."""
    store = FovStore(path)
    if store.generation != generation:
        raise RuntimeError(f"{path} changed while it was segmented (generation {store.generation}, expected {generation})")
    return store


def mask_sources(fov_table: pd.DataFrame) -> list[MaskSources]:
    """Each field's ``(nucleus, cell)`` mask sources from the FOV table's ``location#channel``
    columns; raises naming the columns when the table has none (``segment.config.backend: provided``)."""
    absent = [c for c in (mf.NUCLEUS_MASK, mf.CELL_MASK) if c not in fov_table]
    if absent:
        raise ValueError(f"segment.config.backend: provided, but the FOV table has no {absent} (the wtc11 adapter writes them)")

    def parse(value: str) -> tuple[str, int | None]:
        location, _, channel = str(value).rpartition("#")
        return (location, int(channel)) if location else (channel, None)

    return [(parse(n), parse(c)) for n, c in zip(fov_table[mf.NUCLEUS_MASK], fov_table[mf.CELL_MASK], strict=True)]


def provided_masks(masks: MaskSources, pad_to: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, FovStatus]:
    """The nucleus and cell of a single-cell crop from its own mask files (``(location, channel)``
    each; max-projected, 0 / 255: the Allen WTC-11 ``crop_seg``), centred on ``pad_to`` as ingest's
    ``preprocess.pad_to`` centred the crop (no resize after it); one label each."""
    nucleus, cell = (centre_pad(read_image(location, plane) > 0, pad_to).astype(np.int32) for location, plane in masks)
    nucleus &= cell  # the nucleus inside its cell, as the paired objects of the other backends
    return nucleus, cell, "ok" if cell.any() else "empty"


def process_fov(source: tuple[str, str], index: int, config: SegmentConfig, masks: MaskSources | None = None) -> FovSegmentation:
    """Worker entry point: read field ``index`` of the FOV store ``(path or URL, generation)``,
    segment it (or take its ``masks``), crop its cells."""
    store = _open_store(*source)
    field_image = store[index]
    if config.backend == "provided":
        nuclei, cells, status = provided_masks(masks, field_image.shape[1:])
    else:
        nuclei, cells, status = segment_field(field_image, store.channels, config)
    geometry = cell_geometry(nuclei, cells)
    if config.drop_border:
        geometry = geometry[~geometry["touches_border"]].reset_index(drop=True)
    crops = crop_cells(np.nan_to_num(field_image), cells, geometry, config.crop_size, config.crop_mode)
    return FovSegmentation(index, nuclei.astype(np.uint16), cells.astype(np.uint16), geometry, crops, status)
