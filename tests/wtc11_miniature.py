"""A miniature Allen WTC-11 manifest: real cells (``CellId``, ``FOVId``) and their mitotic stages from
the real annotation table, five of each of the six stages, in the release's manifest columns
(``crop_raw``, ``crop_seg``, ``name_dict``, ``cell_stage``); tagged structures from the real
cell-line table assigned per FOV (the annotation table has none). Each cell gets synthetic 3-D crops
of its own size: a ``Z x C x Y x X`` uint16 OME-TIFF (dna, membrane, structure) and its 0 / 255
masks (five segmentation channels), a mitotic cell rounder with condensed, brighter DNA."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from tests.projects import SHARED_DATA

REAL = SHARED_DATA / "wtc11"
PER_STAGE = 5
RAW_CHANNELS = ["dna", "membrane", "structure"]
SEG_CHANNELS = [
    "dna_segmentation",
    "membrane_segmentation",
    "dna_segmentation_roof",
    "membrane_segmentation_roof",
    "struct_segmentation_roof",
]
Z = 5
CROP_SIZES = (44, 60)  # height and width drawn from [low, high); benchmarks/datasets.py sets the release's


def stage_of(annotations: pd.DataFrame) -> pd.Series:
    """The manifest's ``cell_stage`` vocabulary from the annotation table's draft calls."""
    resolved = annotations["Draft mitotic state resolved"].str.replace("/", "", regex=False)
    paired = annotations["Draft M6/M7 complete"].astype(str).str.lower() == "true"
    return resolved.where(resolved != "M6M7", np.where(paired, "M6M7_complete", "M6M7_single"))


def miniature_manifest() -> pd.DataFrame:
    """The first :data:`PER_STAGE` annotated cells of every stage, each from another FOV, in the manifest's columns."""
    annotations = pd.read_csv(REAL / "draft_plus_human_mito_annotations.csv")
    annotations["cell_stage"] = stage_of(annotations)
    cells = annotations.drop_duplicates(["cell_stage", "FOVId"]).groupby("cell_stage", sort=True).head(PER_STAGE).reset_index(drop=True)
    genes = pd.read_csv(REAL / "cell_line_annotation.txt", sep="\t")["Gene"].str.extract(r"(\w+)\)?$")[0]
    fovs = sorted(cells["FOVId"].unique())
    structure = {fov: genes.iloc[i % 3] for i, fov in enumerate(fovs)}  # three structures
    names = str({"crop_raw": RAW_CHANNELS, "crop_seg": SEG_CHANNELS})
    return pd.DataFrame(
        {
            "CellId": cells["CellId"],
            "FOVId": cells["FOVId"],
            "structure_name": cells["FOVId"].map(structure),
            "crop_raw": [f"crop_raw/{c}_raw.ome.tif" for c in cells["CellId"]],
            "crop_seg": [f"crop_seg/{c}_segmentation.ome.tif" for c in cells["CellId"]],
            "name_dict": names,
            "cell_stage": cells["cell_stage"],
        }
    )


def render_cell(order: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A ``Z x 3 x H x W`` raw crop and its ``Z x 5 x H x W`` masks: stage ``order`` 0 (interphase) to 5."""
    mitotic = order > 0
    height, width = (int(rng.integers(*CROP_SIZES)) for _ in range(2))
    yy, xx = np.mgrid[0:height, 0:width]
    cy, cx = height / 2, width / 2
    cell_radius = (11 if mitotic else 17) + rng.uniform(-1, 1)
    nucleus_radius = (5 if mitotic else 9) + rng.uniform(-1, 1)
    r = np.hypot(yy - cy, xx - cx)
    cell, nucleus = r < cell_radius, r < nucleus_radius
    raw = np.zeros((Z, 3, height, width), np.float32)
    seg = np.zeros((Z, 5, height, width), np.uint8)
    for z in range(Z):
        depth = 1.0 - abs(z - Z // 2) / Z
        raw[z, 0] = nucleus * depth * (3000 if mitotic else 1500) * (1 + 0.1 * order)
        raw[z, 1] = (np.abs(r - cell_radius) < 2) * depth * 1200
        raw[z, 2] = cell * depth * rng.uniform(400, 600) * (1 + (xx % 6 < 2))
        seg[z, 0], seg[z, 1] = nucleus * 255, cell * 255
    raw += 100 + rng.normal(0, 10, raw.shape)
    return np.clip(raw, 0, 65535).astype(np.uint16), seg


def write_miniature(root: Path, seed: int = 0) -> pd.DataFrame:
    """``metadata.csv`` and every cell's crops under ``root``; returns the manifest."""
    manifest = miniature_manifest()
    rng = np.random.default_rng(seed)
    stages = ["M0", "M1M2", "M3", "M4M5", "M6M7_complete", "M6M7_single"]
    for row in manifest.itertuples():
        raw, seg = render_cell(stages.index(row.cell_stage), rng)
        for relative, array in ((row.crop_raw, raw), (row.crop_seg, seg)):
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(root / relative, array, metadata={"axes": "ZCYX"}, ome=True)
    manifest.to_csv(root / "metadata.csv", index=False)
    return manifest
