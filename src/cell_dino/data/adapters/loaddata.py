"""A generic CellProfiler LoadData CSV: ``FileName_<Ch>``, ``PathName_<Ch>`` and ``Metadata_*`` columns,
in any order and with any others beside them (pe2loaddata's instrument columns, ``Orig<Ch>``
channel names). Columns are selected by name; channel names are kept as the table spells them.

``URL_<Ch>`` columns (the Cell Painting Gallery's ``s3://...``) stand for a file and path pair.
``FileName_Illum<X>`` / ``PathName_Illum<X>`` (or ``URL_Illum<X>``), as in
``load_data_with_illum.csv``, name each plate's illumination function of channel ``Orig<X>`` (or
``<X>``): they are not channels, and the manifest keeps them as ``Illum_<Ch>`` for ingest to apply
(``preprocess.illumination_functions: loaddata``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cell_dino.data import manifest as mf
from cell_dino.data.errors import ManifestError
from cell_dino.data.locations import join, resolve, split
from cell_dino.data.tables import read_csv_any_newline, require_rows

KEY_PARTS = (mf.PLATE, mf.WELL, mf.SITE)
ILLUM = "Illum"


def file_locations(table: pd.DataFrame, name: str, root: Path, source: Path) -> pd.Series | None:
    """The full location of file ``name`` per row, from ``URL_<name>`` or ``PathName_`` + ``FileName_``
    (relative paths taken from ``root``, URLs and absolute paths kept); None when the table has neither."""
    if f"URL_{name}" in table:
        urls = table[f"URL_{name}"]
        if urls.isna().any():
            raise ManifestError(f"{source}: row(s) {urls.isna().to_numpy().nonzero()[0][:5].tolist()}: empty URL_{name}")
        return urls.astype(str)
    if mf.file_column(name) not in table:
        return None
    if mf.path_column(name) not in table:
        raise ManifestError(f"{source}: {mf.file_column(name)} has no {mf.path_column(name)}")
    paths = table[mf.path_column(name)]
    if paths.isna().any():
        raise ManifestError(f"{source}: row(s) {paths.isna().to_numpy().nonzero()[0][:5].tolist()}: empty {mf.path_column(name)}")
    return pd.Series([join(resolve(root, p), f) for p, f in zip(paths.astype(str), table[mf.file_column(name)].astype(str))], index=table.index)


def loaddata_channels(table: pd.DataFrame) -> list[str]:
    """The image channels, in column order: every ``FileName_`` / ``URL_`` name that is not an
    illumination function."""
    names = [c.split("_", 1)[1] for c in table.columns if c.startswith(("FileName_", "URL_"))]
    return [n for n in dict.fromkeys(names) if not n.startswith(ILLUM)]


def illumination_name(channel: str) -> str:
    """``OrigDNA`` -> ``IllumDNA`` (CellProfiler's naming of the functions of the original images)."""
    return ILLUM + channel.removeprefix("Orig")


def fov_keys(table: pd.DataFrame, source: Path) -> pd.Series:
    """``Metadata_FOV`` if given, else ``plate/well/site`` from the columns present, else the row;
    a missing key value names its rows."""
    parts = [mf.FOV_KEY] if mf.FOV_KEY in table.columns else [c for c in KEY_PARTS if c in table.columns]
    if not parts:
        return pd.Series([f"row{i}" for i in range(len(table))], index=table.index)
    missing = table[parts].isna().any(axis=1)
    if missing.any():
        raise ManifestError(f"{source}: row(s) {missing.to_numpy().nonzero()[0][:5].tolist()}: no value in key column(s) {parts}")
    return table[parts].astype(str).agg("/".join, axis=1)


def read_loaddata(root: Path, table: str = "load_data.csv") -> pd.DataFrame:
    """Read a LoadData CSV (``root/table``) into an FOV manifest: its ``Metadata_*`` columns, a
    ``Metadata_FOV`` key, ``Metadata_Treatment`` from compound and concentration when both are
    given, each channel's file columns and, with illumination-function columns, ``Illum_<Ch>``.
    Raises :class:`ManifestError` naming the table and the row or column at fault."""
    table_path = root / table
    loaddata = read_csv_any_newline(table_path)
    require_rows(loaddata, table_path)
    channels = loaddata_channels(loaddata)
    if not channels:
        raise ManifestError(f"{table_path}: no FileName_<Channel> (or URL_<Channel>) columns")
    manifest = loaddata[mf.metadata_columns(loaddata)].copy()
    manifest[mf.FOV_KEY] = fov_keys(loaddata, table_path)
    if mf.TREATMENT not in manifest and {mf.COMPOUND, mf.CONCENTRATION} <= set(manifest):
        concentration = mf.numbers(manifest[mf.CONCENTRATION], table_path, mf.CONCENTRATION)
        manifest[mf.CONCENTRATION] = concentration
        manifest[mf.TREATMENT] = mf.treatment_labels(manifest[mf.COMPOUND], concentration)
    for channel in channels:
        directories, names = zip(*map(split, file_locations(loaddata, channel, root, table_path)), strict=True)
        manifest[mf.file_column(channel)] = list(names)
        manifest[mf.path_column(channel)] = list(directories)
    functions = [c.split("_", 1)[1] for c in loaddata.columns if c.startswith(("FileName_" + ILLUM, "URL_" + ILLUM))]
    orphans = sorted(set(functions) - {illumination_name(c) for c in channels})
    if orphans:
        raise ManifestError(f"{table_path}: illumination function(s) {orphans} match no channel of {channels} (Illum<X> belongs to Orig<X>)")
    for channel in channels:
        locations = file_locations(loaddata, illumination_name(channel), root, table_path)
        if locations is not None:
            manifest[mf.illumination_column(channel)] = locations
    return manifest
