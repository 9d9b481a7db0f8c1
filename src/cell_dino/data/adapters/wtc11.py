"""The Allen Institute WTC-11 hiPSC single-cell image data set (Viana et al. 2023), as DINO4Cells
uses it: one row per cell of the manifest (``CellId, FOVId, structure_name, crop_raw, crop_seg,
name_dict, cell_stage``, optionally ``PlateId, WellId``).

Each cell is its own 3-D crop: ``crop_raw`` a ``Z x C x Y x X`` uint16 OME-TIFF whose channels
``name_dict['crop_raw']`` names (``dna, membrane, structure``), ``crop_seg`` the 0 / 255 masks
named by ``name_dict['crop_seg']``. A crop is stored as one field (its chosen channels max-projected
over z at ingest, centred on one canvas by ``preprocess.pad_to``), and segment takes the cell and
nucleus from its own masks (``segment.config.backend: provided``) instead of segmenting.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd

from cell_dino.data import manifest as mf
from cell_dino.data.errors import ManifestError
from cell_dino.data.locations import resolve, split
from cell_dino.data.tables import read_csv_any_newline, require_columns, require_rows

COLUMNS = ["CellId", "FOVId", "structure_name", "crop_raw", "crop_seg", "name_dict", "cell_stage"]
CELL_STAGES = ("M0", "M1M2", "M3", "M4M5", "M6M7_complete", "M6M7_single")  # interphase, then mitosis in order
STAGE, STAGE_ORDER = "Metadata_CellStage", "Metadata_CellStageOrder"


def channel_index(names: dict, key: str, channel: str, row: int, source: Path) -> int:
    """Where ``channel`` is among ``names[key]`` (a row's ``name_dict``), named in the error."""
    listed = names.get(key, [])
    if channel not in listed:
        raise ManifestError(f"{source}: row {row}: channel {channel!r} is not in name_dict[{key!r}] {listed}")
    return listed.index(channel)


def parse_name_dict(text: str, row: int, source: Path) -> dict:
    """A row's ``name_dict`` (a Python dict literal, read without evaluating code)."""
    try:
        names = ast.literal_eval(str(text))
    except (ValueError, SyntaxError) as exc:
        raise ManifestError(f"{source}: row {row}: name_dict {str(text)[:80]!r} is not a dict literal ({exc})") from exc
    if not isinstance(names, dict):
        raise ManifestError(f"{source}: row {row}: name_dict is a {type(names).__name__}, not a dict")
    return names


def read_wtc11(
    root: Path,
    manifest: str = "metadata.csv",
    channels: tuple[str, ...] = ("dna", "membrane", "structure"),
    nucleus_mask: str = "dna_segmentation",
    cell_mask: str = "membrane_segmentation",
) -> pd.DataFrame:
    """Read the WTC-11 manifest (``root/manifest``; crop paths relative to ``root`` or URLs) into an
    FOV manifest of one row per cell: ``Metadata_FOV`` (the ``CellId``), ``Metadata_CellId``,
    ``Metadata_FOVId``, ``Metadata_Structure``, ``Metadata_CellStage`` and its rank
    ``Metadata_CellStageOrder`` (0 interphase ... 5, in :data:`CELL_STAGES` order),
    ``Metadata_Plate`` / ``Metadata_Well`` where given, the provided masks (``Metadata_NucleusMask``,
    ``Metadata_CellMask``: ``location#channel``), and per channel the crop's file, folder and
    ``Plane_<channel>``. Raises :class:`ManifestError` naming the table and row of a bad
    ``name_dict``, an absent channel or an unknown cell stage."""
    source = root / manifest
    table = read_csv_any_newline(source, ["CellId", "FOVId", "structure_name", "crop_raw", "crop_seg", "PlateId", "WellId"])
    require_rows(table, source)
    require_columns(table, COLUMNS, source)
    unknown = ~table["cell_stage"].isna() & ~table["cell_stage"].isin(CELL_STAGES)
    if unknown.any():
        row = int(unknown.to_numpy().nonzero()[0][0])
        raise ManifestError(f"{source}: row {row}: cell_stage {table['cell_stage'].iloc[row]!r} is none of {list(CELL_STAGES)}")
    names = [parse_name_dict(t, i, source) for i, t in enumerate(table["name_dict"])]
    raw = [resolve(root, p) for p in table["crop_raw"].astype(str)]
    seg = [resolve(root, p) for p in table["crop_seg"].astype(str)]
    out = pd.DataFrame(
        {
            mf.FOV_KEY: table["CellId"].astype(str),
            "Metadata_CellId": table["CellId"].astype(str),
            "Metadata_FOVId": table["FOVId"].astype(str),
            "Metadata_Structure": table["structure_name"].astype(str),
            STAGE: table["cell_stage"],
            STAGE_ORDER: table["cell_stage"].map({s: i for i, s in enumerate(CELL_STAGES)}).astype("Int64"),
        }
    )
    for column, metadata in (("PlateId", mf.PLATE), ("WellId", mf.WELL)):
        if column in table:
            out[metadata] = table[column].astype(str)
    for column, mask in ((mf.NUCLEUS_MASK, nucleus_mask), (mf.CELL_MASK, cell_mask)):
        out[column] = [f"{s}#{channel_index(n, 'crop_seg', mask, i, source)}" for i, (s, n) in enumerate(zip(seg, names, strict=True))]
    folders, files = zip(*map(split, raw), strict=True)
    for channel in channels:
        out[mf.file_column(channel)] = list(files)
        out[mf.path_column(channel)] = list(folders)
        out[mf.plane_column(channel)] = [channel_index(n, "crop_raw", channel, i, source) for i, n in enumerate(names)]
    return out
