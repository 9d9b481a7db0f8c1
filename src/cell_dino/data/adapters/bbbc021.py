"""BBBC021 (Caie et al. 2010; Ljosa et al. 2012) layout: ``WeekN/WeekN_<plate>/`` TIFFs + two tables.

Reads ``BBBC021_v1_image.csv`` and ``BBBC021_v1_moa.csv`` (plain or gzipped, any line endings)
with their real column names. File names come from the table, never rebuilt. Channels w1, w2, w4
are DAPI, Tubulin and Actin; the spec calls DAPI ``DNA``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from cell_dino.data import manifest as mf
from cell_dino.data.channels import ChannelSpec
from cell_dino.data.errors import ManifestError
from cell_dino.data.tables import read_csv_any_newline, require_columns, require_rows

IMAGE_TABLE = "BBBC021_v1_image.csv"
MOA_TABLE = "BBBC021_v1_moa.csv"
CHANNELS = ChannelSpec(("DNA", "Tubulin", "Actin"))
SOURCE_CHANNEL = {"DNA": "DAPI", "Tubulin": "Tubulin", "Actin": "Actin"}
CONTROL_COMPOUND = "DMSO"
SITE_PATTERN = re.compile(r"_s(\d+)_w\d")
IMAGE_COLUMNS = [
    "Image_Metadata_Plate_DAPI",
    "Image_Metadata_Well_DAPI",
    "Replicate",
    "Image_Metadata_Compound",
    "Image_Metadata_Concentration",
    *[f"Image_{kind}_{SOURCE_CHANNEL[c]}" for c in CHANNELS for kind in ("FileName", "PathName")],
]


def find_table(root: Path, name: str) -> Path:
    """``root/name`` or its gzipped twin."""
    for candidate in (root / name, root / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise ManifestError(
        f"{root / name}: BBBC021 table not found (nor {name}.gz); "
        f"to make a synthetic screen there: cell-dino phantom {root} --preset test|demo"
    )


def join_moa(images: pd.DataFrame, moa: pd.DataFrame, source: Path) -> pd.Series:
    """MoA of each image row, matched on compound and concentration with a float tolerance."""
    left = pd.DataFrame(
        {
            "compound": images["Image_Metadata_Compound"].to_numpy(),
            "concentration": images["Image_Metadata_Concentration"].to_numpy(dtype=float),
            "row": np.arange(len(images)),
        }
    )
    pairs = left.merge(moa, on="compound", suffixes=("", "_moa"))
    close = np.isclose(pairs["concentration"], pairs["concentration_moa"], rtol=1e-6, atol=1e-9)
    pairs = pairs.loc[close]
    ambiguous = pairs["row"].duplicated(keep=False)
    if ambiguous.any():
        treatments = pairs.loc[ambiguous, ["compound", "concentration"]].drop_duplicates()
        raise ManifestError(f"{source}: more than one MoA for treatment(s) {treatments.values.tolist()[:5]}")
    labels = pd.Series(pd.NA, index=np.arange(len(images)), dtype="string")
    labels.iloc[pairs["row"].to_numpy()] = pairs["moa"].to_numpy()
    return labels


def parse_sites(file_names: pd.Series, source: Path) -> pd.Series:
    """Site number from file names such as ``Week1_150607_B02_s3_w1<uuid>.tif``."""
    sites = file_names.str.extract(SITE_PATTERN, expand=False)
    if sites.isna().any():
        row = int(np.flatnonzero(sites.isna().to_numpy())[0])
        raise ManifestError(f"{source}: row {row}: no site (_s<N>_w) in file name {file_names.iloc[row]!r}")
    return sites.astype(int)


def read_bbbc021(root: Path, image_table: str = IMAGE_TABLE, moa_table: str = MOA_TABLE) -> pd.DataFrame:
    """Read a BBBC021 tree (the real one or the phantom) into an FOV manifest."""
    image_path = find_table(root, image_table)
    moa_path = find_table(root, moa_table)
    images = read_csv_any_newline(image_path)
    require_rows(images, image_path)
    require_columns(images, IMAGE_COLUMNS, image_path)
    moa = read_csv_any_newline(moa_path)
    require_rows(moa, moa_path)
    require_columns(moa, ["compound", "concentration", "moa"], moa_path)
    concentration = mf.numbers(images["Image_Metadata_Concentration"], image_path, "Image_Metadata_Concentration")

    compound = images["Image_Metadata_Compound"].astype(str)
    plate = images["Image_Metadata_Plate_DAPI"].astype(str)
    well = images["Image_Metadata_Well_DAPI"].astype(str)
    site = parse_sites(images["Image_FileName_DAPI"].astype(str), image_path)
    manifest = pd.DataFrame(
        {
            mf.FOV_KEY: plate + "/" + well + "/s" + site.astype(str),
            mf.PLATE: plate,
            mf.WELL: well,
            mf.SITE: site,
            mf.BATCH: images["Image_PathName_DAPI"].astype(str).str.split("/").str[0],
            "Metadata_Replicate": images["Replicate"].astype(int),
            mf.COMPOUND: compound,
            mf.CONCENTRATION: concentration,
            mf.TREATMENT: mf.treatment_labels(compound, concentration),
            mf.MOA: join_moa(images.assign(Image_Metadata_Concentration=concentration), moa, moa_path),
            mf.CONTROL: compound == CONTROL_COMPOUND,
        }
    )
    for channel in CHANNELS:
        source = SOURCE_CHANNEL[channel]
        manifest[mf.file_column(channel)] = images[f"Image_FileName_{source}"].astype(str)
        manifest[mf.path_column(channel)] = [str(root / p) for p in images[f"Image_PathName_{source}"]]
    return manifest
