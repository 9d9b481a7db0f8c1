"""A miniature BBBC021 download: the real image and MoA tables cut to a few treatments on 12
plates of 4 weeks (real plates, wells, compounds, concentrations, MoAs, file names and folders),
with synthetic 16-bit 1024 x 1280 fields where the table points: nuclei in DAPI, cell bodies in
Tubulin and Actin whose brightness and size depend on the MoA, under a vignetting illumination."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from tests.projects import SHARED_DATA

REAL = SHARED_DATA / "bbbc021"
SHAPE = (1024, 1280)
# two or three compounds per MoA on shared plates of weeks 1-4 (one concentration each)
TREATMENTS = [
    ("cytochalasin B", 10.0),
    ("cytochalasin D", 0.3),
    ("AZ-A", 1.0),
    ("AZ841", 1.0),
    ("AZ258", 1.0),
    ("etoposide", 3.0),
    ("mitomycin C", 1.0),
    ("methotrexate", 10.0),
]
CHANNEL_FILES = ("DAPI", "Tubulin", "Actin")


def miniature_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Site 1 of every replicate well of :data:`TREATMENTS` and of one DMSO well per plate they
    are on: the real image-table rows, and the real MoA table."""
    images = pd.read_csv(REAL / "BBBC021_v1_image.csv.gz")
    moa = pd.read_csv(REAL / "BBBC021_v1_moa.csv")
    first_site = images["Image_FileName_DAPI"].str.contains("_s1_w")
    chosen = pd.Series(False, index=images.index)
    for compound, concentration in TREATMENTS:
        chosen |= (images["Image_Metadata_Compound"] == compound) & np.isclose(images["Image_Metadata_Concentration"], concentration)
    plates = images.loc[chosen, "Image_Metadata_Plate_DAPI"].unique()
    dmso = images[(images["Image_Metadata_Compound"] == "DMSO") & images["Image_Metadata_Plate_DAPI"].isin(plates) & first_site]
    controls = dmso.groupby("Image_Metadata_Plate_DAPI").head(1).index
    return images[(chosen & first_site) | images.index.isin(controls)].reset_index(drop=True), moa


def _blobs(shape: tuple[int, int], centres: np.ndarray, radius: float, peak: np.ndarray) -> np.ndarray:
    image = np.zeros(shape, np.float32)
    half = int(3 * radius)
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1]
    kernel = np.exp(-(yy**2 + xx**2) / (2 * radius**2)).astype(np.float32)
    for (y, x), value in zip(centres, peak, strict=True):
        top, left = y - half, x - half
        window = image[max(top, 0) : y + half + 1, max(left, 0) : x + half + 1]
        window += value * kernel[max(-top, 0) : max(-top, 0) + window.shape[0], max(-left, 0) : max(-left, 0) + window.shape[1]]
    return image


def render_field(moa: str, rng: np.random.Generator) -> list[np.ndarray]:
    """DAPI, Tubulin, Actin uint16 planes of one field: about 40 cells, MoA-dependent phenotype."""
    code = sum(map(ord, moa)) % 7 / 6  # 0..1: a fixed phenotype per MoA (DMSO included)
    n = 40
    centres = np.stack([rng.integers(40, SHAPE[0] - 40, n), rng.integers(40, SHAPE[1] - 40, n)], axis=1)
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    vignette = 1.0 - 0.3 * (((yy - SHAPE[0] / 2) / SHAPE[0]) ** 2 + ((xx - SHAPE[1] / 2) / SHAPE[1]) ** 2)
    planes = [
        _blobs(SHAPE, centres, 9 + 4 * code, rng.uniform(2500, 3500, n)),
        _blobs(SHAPE, centres, 22 + 10 * (1 - code), rng.uniform(800, 1200, n) * (1 + code)),
        _blobs(SHAPE, centres, 18 + 12 * code, rng.uniform(600, 900, n) * (2 - code)),
    ]
    return [np.clip((300 + p + rng.normal(0, 20, SHAPE)) * vignette, 0, 65535).astype(np.uint16) for p in planes]


def write_miniature(root: Path, seed: int = 0) -> pd.DataFrame:
    """The miniature tree under ``root`` (tables and TIFFs); returns its image table."""
    images, moa = miniature_tables()
    root.mkdir(parents=True, exist_ok=True)
    images.to_csv(root / "BBBC021_v1_image.csv", index=False)
    moa.to_csv(root / "BBBC021_v1_moa.csv", index=False)
    label = dict(zip(zip(moa["compound"], moa["concentration"].round(6)), moa["moa"], strict=True))
    rng = np.random.default_rng(seed)
    for row in images.itertuples(index=False):
        treatment = (row.Image_Metadata_Compound, round(float(row.Image_Metadata_Concentration), 6))
        for source, plane in zip(CHANNEL_FILES, render_field(label.get(treatment, "DMSO"), rng), strict=True):
            folder = root / getattr(row, f"Image_PathName_{source}")
            folder.mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(folder / getattr(row, f"Image_FileName_{source}"), plane, compression="zlib")
    return images
