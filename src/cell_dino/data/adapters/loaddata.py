"""A generic CellProfiler LoadData CSV: ``FileName_<Ch>``, ``PathName_<Ch>`` and ``Metadata_*`` columns,
in any order and with any others beside them (pe2loaddata's instrument columns, ``Orig<Ch>``
channel names). Columns are selected by name; channel names are kept as the table spells them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cell_dino.data import manifest as mf
from cell_dino.data.errors import ManifestError
from cell_dino.data.tables import read_csv_any_newline, require_rows

KEY_PARTS = (mf.PLATE, mf.WELL, mf.SITE)


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
    """Read a LoadData CSV (``root/table``); relative ``PathName_*`` are taken from ``root``."""
    table_path = root / table
    loaddata = read_csv_any_newline(table_path)
    require_rows(loaddata, table_path)
    if not any(c.startswith("FileName_") for c in loaddata.columns):
        raise ManifestError(f"{table_path}: no FileName_<Channel> columns")
    channels = mf.channels_of(loaddata)
    manifest = loaddata[mf.metadata_columns(loaddata)].copy()
    manifest[mf.FOV_KEY] = fov_keys(loaddata, table_path)
    if mf.TREATMENT not in manifest and {mf.COMPOUND, mf.CONCENTRATION} <= set(manifest):
        concentration = pd.to_numeric(manifest[mf.CONCENTRATION], errors="coerce")
        bad = concentration.isna() & manifest[mf.CONCENTRATION].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise ManifestError(f"{table_path}: row {row}: {mf.CONCENTRATION} {manifest[mf.CONCENTRATION].iloc[row]!r} is not a number")
        manifest[mf.CONCENTRATION] = concentration
        manifest[mf.TREATMENT] = mf.treatment_labels(manifest[mf.COMPOUND], concentration)
    for channel in channels:
        if mf.path_column(channel) not in loaddata:
            raise ManifestError(f"{table_path}: {mf.file_column(channel)} has no {mf.path_column(channel)}")
        paths = loaddata[mf.path_column(channel)]
        if paths.isna().any():
            raise ManifestError(f"{table_path}: row(s) {paths.isna().to_numpy().nonzero()[0][:5].tolist()}: empty {mf.path_column(channel)}")
        manifest[mf.file_column(channel)] = loaddata[mf.file_column(channel)]
        manifest[mf.path_column(channel)] = [str(root / p) for p in paths]
    return manifest
