"""The FOV manifest: one row per field of view, ``Metadata_*`` columns plus LoadData file columns.

Column names follow CellProfiler / pycytominer: ``Metadata_Plate, Metadata_Well, ...`` and, per
channel, ``FileName_<Channel>`` and ``PathName_<Channel>``. ``Metadata_FOV`` is a unique key that
every adapter builds. Columns a data set lacks are absent, never invented.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd

from cell_dino.data.channels import ChannelSpec
from cell_dino.data.errors import ManifestError
from cell_dino.data.locations import join

log = logging.getLogger(__name__)
FOV_KEY = "Metadata_FOV"
PLATE = "Metadata_Plate"
WELL = "Metadata_Well"
SITE = "Metadata_Site"
BATCH = "Metadata_Batch"
COMPOUND = "Metadata_Compound"
CONCENTRATION = "Metadata_Concentration"
TREATMENT = "Metadata_Treatment"
MOA = "Metadata_MoA"
CONTROL = "Metadata_Control"
NUCLEUS_MASK, CELL_MASK = "Metadata_NucleusMask", "Metadata_CellMask"  # a field's own masks ("location#channel"), when provided

MissingLabelPolicy = Literal["raise", "drop", "keep"]


def file_column(channel: str) -> str:
    return f"FileName_{channel}"


def path_column(channel: str) -> str:
    return f"PathName_{channel}"


def plane_column(channel: str) -> str:
    """The column of a channel's index within a multi-channel file (absent: one channel per file)."""
    return f"Plane_{channel}"


def illumination_column(channel: str) -> str:
    """The column of a channel's illumination function (a ``.npy`` of the plate, from LoadData)."""
    return f"Illum_{channel}"


def metadata_columns(table: pd.DataFrame) -> list[str]:
    """The ``Metadata_*`` columns of a table, in table order."""
    return [c for c in table.columns if c.startswith("Metadata_")]


def channels_of(table: pd.DataFrame) -> ChannelSpec:
    """The channel spec implied by the ``FileName_<Channel>`` columns, in column order."""
    return ChannelSpec.of(c.removeprefix("FileName_") for c in table.columns if c.startswith("FileName_"))


def select_channels(manifest: pd.DataFrame, names: list[str], source: str) -> pd.DataFrame:
    """The manifest with the file columns of ``names`` only, in that order (e.g. leaving out a
    brightfield channel); raises naming the channels the data set lacks."""
    present = channels_of(manifest)
    absent = [n for n in names if n not in present.names]
    if absent:
        raise ManifestError(f"{source}: channel(s) {absent} not in the data set, which has {list(present.names)}")
    files = [col for c in ChannelSpec.of(names) for col in (file_column(c), path_column(c))]
    others = [c for c in manifest.columns if not c.startswith(("FileName_", "PathName_"))]
    return manifest[others + files]


def image_paths(row: pd.Series, channels: ChannelSpec) -> list[str]:
    """The image file of each channel of one manifest row: a path, or a URL (LoadData's ``URL_``)."""
    return [join(row[path_column(c)], row[file_column(c)]) for c in channels]


def image_planes(row: pd.Series, channels: ChannelSpec) -> list[int | None]:
    """Each channel's index within its file (``Plane_<Ch>``), or None where a file holds one channel."""
    return [None if plane_column(c) not in row or pd.isna(row[plane_column(c)]) else int(row[plane_column(c)]) for c in channels]


def validate_manifest(
    manifest: pd.DataFrame,
    channels: ChannelSpec,
    required_metadata: list[str],
    source: str,
) -> pd.DataFrame:
    """Check the manifest against the contract; return it with a fresh index.

    Raises :class:`ManifestError` naming ``source`` and the rows or columns at fault for: an
    empty data set, absent file or metadata columns, empty file names, duplicate FOV keys.
    """
    if manifest.empty:
        raise ManifestError(f"{source}: the data set is empty (no fields of view)")
    needed = [FOV_KEY, *required_metadata]
    needed += [col for c in channels for col in (file_column(c), path_column(c))]
    absent = [c for c in needed if c not in manifest.columns]
    if absent:
        raise ManifestError(f"{source}: required column(s) absent: {absent} (channels {list(channels.names)})")
    for channel in channels:
        names = manifest[file_column(channel)]
        blank = names.isna() | (names.astype(str).str.strip() == "")
        if blank.any():
            rows = manifest.index[blank].tolist()[:5]
            raise ManifestError(f"{source}: empty {file_column(channel)} in row(s) {rows}")
    duplicated = manifest[FOV_KEY].duplicated(keep=False)
    if duplicated.any():
        keys = manifest.loc[duplicated, FOV_KEY].unique().tolist()[:5]
        rows = manifest.index[duplicated].tolist()[:10]
        raise ManifestError(f"{source}: duplicate FOV keys {keys} in rows {rows}")
    files = pd.DataFrame({c: manifest[path_column(c)].astype(str) + "/" + manifest[file_column(c)].astype(str) for c in channels})
    for c in channels:  # one file may hold several channels (Plane_<Ch>): a channel is a file and a plane
        if plane_column(c) in manifest:
            files[c] = files[c] + "#" + manifest[plane_column(c)].astype(str)
    twice = files.nunique(axis=1) < len(channels)
    if twice.any():
        raise ManifestError(
            f"{source}: row {manifest.index[twice][0]}: the same image file for two channels ({files[twice].iloc[0].tolist()})"
        )
    reused = files.stack().duplicated(keep=False).groupby(level=0).any()
    if reused.any():
        raise ManifestError(f"{source}: rows {manifest.index[reused.to_numpy()].tolist()[:10]} name the same image file")
    return manifest.reset_index(drop=True)


def apply_missing_label_policy(
    manifest: pd.DataFrame, column: str, policy: MissingLabelPolicy, source: str
) -> tuple[pd.DataFrame, list[str]]:
    """Handle rows whose label ``column`` (e.g. the MoA) is missing.

    ``raise`` names the unlabelled treatments, ``drop`` removes their rows, ``keep`` leaves them.
    Returns the manifest and the sorted list of unlabelled treatments.
    """
    if column not in manifest.columns:
        return manifest, []
    missing = manifest[column].isna()
    group = TREATMENT if TREATMENT in manifest.columns else FOV_KEY
    unlabelled = sorted(manifest.loc[missing, group].astype(str).unique())
    if unlabelled:
        log.warning("%s: %d treatment(s) without %s (missing_label: %s)", source, len(unlabelled), column, policy)
    if unlabelled and policy == "raise":
        raise ManifestError(
            f"{source}: {len(unlabelled)} treatment(s) with no {column}: {unlabelled[:10]} (set missing_label: drop or keep to accept them)"
        )
    if policy == "drop":
        manifest = manifest.loc[~missing].reset_index(drop=True)
    return manifest, unlabelled


MISSING_TEXT = {"", "nan", "na", "n/a", "none", "null"}  # written for a missing value (any case)


def numbers(values: pd.Series, source: object, column: str) -> pd.Series:
    """``values`` as floats: a numeric column as it is; text parsed, missing (NaN, None, empty or
    ``nan``/``NA``/``null`` text) staying missing, never 0. Anything else (``"10 uM"``, ``"1,5"``)
    and infinities raise :class:`ManifestError` naming ``source`` (the file), the row (0-based, of
    ``values`` in order) and ``column``. Every adapter reads a number through it."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        parsed = values.astype(float)
        bad = np.flatnonzero(np.isinf(parsed.to_numpy()))
    else:
        text = values.astype("string").str.strip()
        missing = text.isna() | text.str.lower().isin(MISSING_TEXT)
        parsed = pd.to_numeric(text.mask(missing), errors="coerce").astype(float)
        bad = np.flatnonzero((~missing & ~np.isfinite(parsed)).to_numpy(dtype=bool))
    if len(bad):
        row = int(bad[0])
        raise ManifestError(f"{source}: row {row}: {column} {values.iloc[row]!r} is not a finite number ({len(bad)} such row(s))")
    return pd.Series(parsed.to_numpy(), index=values.index, name=values.name)


def treatment_labels(compound: pd.Series, concentration: pd.Series) -> pd.Series:
    """``<compound>@<concentration>`` labels, e.g. ``taxol@0.3``."""
    return compound.astype(str) + "@" + concentration.map("{:g}".format)


def fov_table(manifest: pd.DataFrame, keys: list[str], size: tuple[int, int]) -> pd.DataFrame:
    """The rows of ``manifest`` for the FOV ``keys`` in that order: ``Metadata_FOV`` then every other
    ``Metadata_*`` column (chosen by name), ``store_index`` and the stored ``height`` / ``width``."""
    metadata = [c for c in metadata_columns(manifest) if c != FOV_KEY]
    table = manifest.set_index(FOV_KEY).loc[keys, metadata].reset_index()
    return table.assign(store_index=range(len(table)), height=size[0], width=size[1])
