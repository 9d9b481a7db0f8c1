"""Microscope files through bioio (OME-TIFF, OME-Zarr; ND2, CZI and others with their bioio plugins):
one multichannel file per field of view, its channels named by the file's own metadata.

Plate, well and site come, in this order of precedence, from a table (``table``: a CSV with a
``FileName`` column, optionally ``PathName``, and ``Metadata_*`` columns: the design), from the
file's OME metadata (an OME-TIFF written with a ``Plate > Well > WellSample`` that points at its
image), or from the file's path (``pattern``: a regular expression with named groups ``plate``,
``well`` and ``site``). A channel is found in each file by name, so files whose channels come in
another order are read right (``Plane_<channel>``: its index in that file).
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pandas as pd

from cell_dino.data import manifest as mf
from cell_dino.data.errors import ManifestError
from cell_dino.data.readers import open_microscope_file
from cell_dino.data.tables import read_csv_any_newline, require_columns, require_rows

DEFAULT_FILES = ("**/*.ome.tif", "**/*.ome.tiff", "**/*.ome.zarr")


def ome_plate_position(image) -> dict[str, object]:
    """``Metadata_Plate``, ``Metadata_Well`` (``A01``) and ``Metadata_Site`` of an OME file's first
    image from its OME metadata's plate (0-based row and column), or {} when it has none."""
    metadata = getattr(image, "metadata", None)
    images = getattr(metadata, "images", None)
    if not images:
        return {}
    first = images[0].id
    for plate in getattr(metadata, "plates", []) or []:
        for well in plate.wells:
            for sample in well.well_samples:
                if sample.image_ref is not None and sample.image_ref.id == first:
                    well_name = f"{string.ascii_uppercase[well.row]}{well.column + 1:02d}"
                    return {mf.PLATE: plate.name or plate.id, mf.WELL: well_name, mf.SITE: int(sample.index) + 1}
    return {}


def _listed(root: Path, files: tuple[str, ...] | list[str], table: str | None) -> pd.DataFrame:
    """One row per file: ``location`` (its full path) and the table's ``Metadata_*`` columns."""
    if table is not None:
        source = root / table
        listed = read_csv_any_newline(source)
        require_rows(listed, source)
        require_columns(listed, ["FileName"], source)
        folders = listed["PathName"].astype(str) if "PathName" in listed else pd.Series(["."] * len(listed))
        locations = [str((root / folder / name).resolve()) for folder, name in zip(folders, listed["FileName"].astype(str))]
        return listed[mf.metadata_columns(listed)].assign(location=locations)
    found = sorted({str(p) for pattern in files for p in root.glob(pattern)})
    if not found:
        raise ManifestError(f"{root}: no microscope files match {list(files)}")
    return pd.DataFrame({"location": found})


def _file_channels(image, location: str) -> list[str]:
    """The channel names of a bioio image, refused (naming the file) when unreadable or repeated."""
    try:
        names = [str(n) for n in image.channel_names]
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's
        raise ManifestError(f"{location}: channel names not readable ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from exc
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ManifestError(f"{location}: channel name(s) {twice} appear more than once in {names}: which one is meant is ambiguous")
    return names


def _sites(manifest: pd.DataFrame, locations: list[str]) -> pd.Series:
    """``Metadata_Site`` as numbers (whole numbers as integers), refusing a value that is not one,
    naming its file."""
    sites = pd.to_numeric(manifest[mf.SITE], errors="coerce")
    bad = sites.isna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise ManifestError(f"{locations[row]}: {mf.SITE} {manifest[mf.SITE].iloc[row]!r} is not a number (sites are numbered 1, 2, ...)")
    return sites.astype(int) if (sites == sites.round()).all() else sites


def read_bioio_files(
    root: Path, files: str | tuple[str, ...] | list[str] = DEFAULT_FILES, table: str | None = None, pattern: str | None = None,
    channels: list[str] | None = None,
) -> pd.DataFrame:
    """An FOV manifest of microscope files under ``root`` (``files``: glob patterns; or ``table``),
    one row per file: ``Metadata_Plate``, ``Metadata_Well``, ``Metadata_Site``, the table's other
    ``Metadata_*`` columns, ``Metadata_FOV``, and for each channel (``channels``, by name: ingest's
    ``source.channels``; default: the first file's) ``FileName_``, ``PathName_`` and
    ``Plane_<channel>``. Raises :class:`ManifestError` naming the file: unreadable, a channel it
    lacks or names twice, no plate, well or site, a site that is not a number; or naming the option
    (``ingest.source.options.pattern``) that is not a regular expression."""
    listed = _listed(Path(root), (files,) if isinstance(files, str) else tuple(files), table)
    try:
        regex = re.compile(pattern) if pattern else None
    except re.error as error:
        raise ManifestError(f"ingest.source.options.pattern {pattern!r} is not a regular expression: {error}") from None
    rows = []
    for _, entry in listed.iterrows():
        location = entry["location"]
        image = open_microscope_file(location)
        names = _file_channels(image, location)
        wanted = channels or (rows[0]["channels"] if rows else names)
        missing = [c for c in wanted if c not in names]
        if missing:
            raise ManifestError(f"{location}: channel(s) {missing} not in the file's channels {names}")
        position = {k: v for k, v in entry.items() if k != "location" and pd.notna(v)}
        if not {mf.PLATE, mf.WELL, mf.SITE} <= set(position):
            found = regex.search(str(Path(location).relative_to(root))) if regex and Path(location).is_relative_to(root) else None
            parts = {mf.PLATE: "plate", mf.WELL: "well", mf.SITE: "site"}
            from_path = {col: found.group(g) for col, g in parts.items() if found and g in found.groupdict()}
            position = {**from_path, **ome_plate_position(image), **position}
        absent = [c for c in (mf.PLATE, mf.WELL, mf.SITE) if c not in position]
        if absent:
            raise ManifestError(f"{location}: no {absent} (from a table, the file's OME plate, or a pattern's named groups)")
        rows.append({"channels": list(wanted), "location": location, "names": names, **position})
    manifest = pd.DataFrame([{k: v for k, v in r.items() if k.startswith("Metadata_")} for r in rows])
    manifest[mf.SITE] = _sites(manifest, [r["location"] for r in rows])
    manifest[mf.FOV_KEY] = manifest[[mf.PLATE, mf.WELL, mf.SITE]].astype(str).agg("/".join, axis=1)
    twice = manifest[mf.FOV_KEY][manifest[mf.FOV_KEY].duplicated()].tolist()
    if twice:
        raise ManifestError(f"{root}: field(s) {twice[:3]} named by more than one file")
    for channel in rows[0]["channels"]:
        manifest[mf.file_column(channel)] = [Path(r["location"]).name for r in rows]
        manifest[mf.path_column(channel)] = [str(Path(r["location"]).parent) for r in rows]
        manifest[mf.plane_column(channel)] = [r["names"].index(channel) for r in rows]
    return manifest
