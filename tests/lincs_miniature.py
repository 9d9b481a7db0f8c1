"""A miniature LINCS Cell Painting plate set: the real metadata (barcode platemap, platemap
C-7161-01-LM6-027, the MoA table) under ``metadata/``, and a ``load_data_with_illum.csv`` in
pe2loaddata's layout (Phenix file names, ``Orig<Ch>`` channels, ``Illum<Ch>`` functions) for two
replicate plates of that map (SQ00015054, batch 4; SQ00015211, batch 1): every dose of six compounds
of three MoAs and four DMSO wells. Only the top doses and the DMSO wells have images (synthetic
16-bit 256 x 256 fields, MoA-dependent, under each plate's vignetting, whose saved function is the
``.npy``); the images and functions can sit in an S3 bucket, named by ``URL_`` columns."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from tests.bbbc021_miniature import _blobs
from tests.projects import SHARED_DATA

REAL = SHARED_DATA / "lincs"
PLATE_MAP = "C-7161-01-LM6-027"
PLATES = ("SQ00015054", "SQ00015211")
COMPOUNDS = ("digoxin", "istaroxime", "droperidol", "thiothixene", "oglemilast", "apremilast")  # 3 MoAs of 2 compounds each
DMSO_WELLS = ("A01", "A02", "B01", "B02")
CHANNELS = ("DNA", "ER", "RNA", "AGP", "Mito")
PHENIX_CHANNEL = {"DNA": 5, "ER": 4, "RNA": 3, "AGP": 2, "Mito": 1}  # the ch<N> of each stain in this export
SHAPE = (256, 256)  # benchmarks/datasets.py sets the real 2160 x 2160
CELLS_PER_FIELD = 15
MOA_TABLE = "repurposing_info_external_moa_map_resolved.tsv"


def write_metadata(root: Path) -> None:
    """The real barcode platemap, platemap and MoA table where the ``lincs`` env expects them."""
    platemaps = root / "metadata" / "platemaps"
    (platemaps / "platemap").mkdir(parents=True, exist_ok=True)
    shutil.copy(REAL / "barcode_platemap.csv", platemaps)
    shutil.copy(REAL / "platemap" / f"{PLATE_MAP}.txt", platemaps / "platemap")
    (root / "metadata" / "moa").mkdir(parents=True, exist_ok=True)
    shutil.copy(REAL / MOA_TABLE, root / "metadata" / "moa")


def chosen_wells() -> pd.DataFrame:
    """``well_position, broad_sample, mmoles_per_liter, pert_iname, moa, top`` of the chosen wells."""
    platemap = pd.read_csv(REAL / "platemap" / f"{PLATE_MAP}.txt", sep="\t")
    moa = pd.read_csv(REAL / MOA_TABLE, sep="\t")
    wells = platemap.merge(moa[["broad_sample", "pert_iname", "moa"]], on="broad_sample", how="left")
    wells = wells[wells["pert_iname"].isin(COMPOUNDS) | wells["well_position"].isin(DMSO_WELLS)].copy()
    wells["top"] = wells["broad_sample"].isna() | (
        wells["mmoles_per_liter"] == wells.groupby("broad_sample")["mmoles_per_liter"].transform("max")
    )
    return wells.reset_index(drop=True)


def phenix_name(well: str, channel: str) -> str:
    row, column = ord(well[0]) - ord("A") + 1, int(well[1:])
    return f"r{row:02d}c{column:02d}f01p01-ch{PHENIX_CHANNEL[channel]}sk1fk1fl1.tiff"


def vignetting(plate: int) -> np.ndarray:
    """A plate's illumination function (one per channel, brighter in the centre), at least 1."""
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]] / SHAPE[0] - 0.5
    return (1.0 + (0.6 + 0.2 * plate) * (0.5 - yy**2 - xx**2)).astype(np.float32)


def render_field(moa: str, rng: np.random.Generator) -> list[np.ndarray]:
    """DNA, ER, RNA, AGP, Mito float planes of one field: ``CELLS_PER_FIELD`` cells, an MoA-dependent phenotype."""
    code = sum(map(ord, moa)) % 5 / 4
    n = CELLS_PER_FIELD
    centres = np.stack([rng.integers(24, SHAPE[0] - 24, n), rng.integers(24, SHAPE[1] - 24, n)], axis=1)
    body = _blobs(SHAPE, centres, 12 + 5 * code, rng.uniform(800, 1200, n))
    return [
        _blobs(SHAPE, centres, 6, rng.uniform(2500, 3500, n)),
        body * (1.5 - code),
        body * (0.5 + code),
        _blobs(SHAPE, centres, 10 + 6 * (1 - code), rng.uniform(600, 900, n)),
        body * 0.8,
    ]


def loaddata_table(location: str) -> pd.DataFrame:
    """The LoadData rows of every chosen well of both plates (files and functions under ``location``)."""
    rows = []
    for plate in PLATES:
        for well in chosen_wells()["well_position"]:
            row = {}
            for channel in CHANNELS:
                row |= {f"FileName_Orig{channel}": phenix_name(well, channel), f"PathName_Orig{channel}": f"{location}/images/{plate}"}
            row |= {"Metadata_Plate": plate, "Metadata_Well": well, "Metadata_Site": 1}
            for channel in sorted(CHANNELS):
                row |= {f"FileName_Illum{channel}": f"{plate}_Illum{channel}.npy", f"PathName_Illum{channel}": f"{location}/illum/{plate}"}
            rows.append(row)
    return pd.DataFrame(rows)


def miniature_files(seed: int = 0) -> dict[str, bytes]:
    """Relative path -> content of every image (top doses and DMSO only) and illumination function."""
    rng = np.random.default_rng(seed)
    wells, files = chosen_wells(), {}
    for p, plate in enumerate(PLATES):
        function = vignetting(p)
        for channel in CHANNELS:
            buffer = io.BytesIO()
            np.save(buffer, function)
            files[f"illum/{plate}/{plate}_Illum{channel}.npy"] = buffer.getvalue()
        for well in wells[wells["top"]].itertuples():
            for channel, plane in zip(CHANNELS, render_field(str(well.moa if isinstance(well.moa, str) else "DMSO"), rng), strict=True):
                pixels = np.clip((200 + plane + rng.normal(0, 15, SHAPE)) * function, 0, 65535).astype(np.uint16)
                buffer = io.BytesIO()
                tifffile.imwrite(buffer, pixels)
                files[f"images/{plate}/{phenix_name(well.well_position, channel)}"] = buffer.getvalue()
    return files


def write_miniature(root: Path, bucket_url: str | None = None, upload=None) -> pd.DataFrame:
    """The metadata and ``load_data_with_illum.csv`` under ``root``; the images and functions under
    ``root`` too, or, with ``bucket_url`` (``s3://bucket/prefix``), given to ``upload(key, bytes)``
    and named there by ``URL_`` columns. Returns the LoadData table."""
    write_metadata(root)
    files = miniature_files()
    if bucket_url is None:
        for name, content in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
        table = loaddata_table(".").replace(r"^\./", "", regex=True)
    else:
        for name, content in files.items():
            upload(name, content)
        table = loaddata_table(bucket_url)
        for kind in [c.removeprefix("FileName_") for c in table.columns if c.startswith("FileName_")]:
            table[f"URL_{kind}"] = table[f"PathName_{kind}"] + "/" + table[f"FileName_{kind}"]
            table = table.drop(columns=[f"FileName_{kind}", f"PathName_{kind}"])
    table.to_csv(root / "load_data_with_illum.csv", index=False)
    return table
