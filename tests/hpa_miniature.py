"""A miniature HPA download: real rows of the HPA v18 website table (antibodies, plates, wells,
fields and their single-label localisations) and of the Kaggle 2018 table (UUIDs, no antibody), in
one ``Id,Target`` table as DINO4Cells combines them (two multi-label Kaggle images among them), with synthetic 8-bit 512 x 512 PNGs per
channel where the table points: nuclei in blue, cell bodies in red (microtubules) and yellow (ER),
and the green protein where its localisation puts it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from tests.bbbc021_miniature import _blobs
from tests.projects import SHARED_DATA

REAL = SHARED_DATA / "hpa"
SHAPE = (512, 512)
LOCATIONS = {"0": "nucleus", "25": "cytosol", "23": "mitochondria"}  # Target index -> where the protein is drawn
ANTIBODIES_PER_LOCATION = 2
FIELDS_PER_ANTIBODY = 2  # two images per antibody: replicates within it, an antibody in each fold
KAGGLE_PER_LOCATION = 1
CELL_LINES = ("U-2 OS", "A-431", "U-251 MG")  # HPA cell lines, assigned here (the label tables carry none)
MULTI_LABEL = "25 0"  # cytosol and nucleoplasm, as the Kaggle table writes it (unsorted)


def miniature_table() -> pd.DataFrame:
    """``Id,Target`` rows: the first fields of the first antibodies of each single-label
    localisation in :data:`LOCATIONS` (website ids), Kaggle 2018 images of each, and two of
    :data:`MULTI_LABEL`."""
    website = pd.read_csv(REAL / "hpa_v18_external_train.csv", dtype=str)
    website = website[website["Id"].str.count("_") == 3]
    kaggle = pd.read_csv(REAL / "kaggle2018_train.csv", dtype=str)
    rows = []
    for target in LOCATIONS:
        single = website[website["Target"] == target]
        antibodies = single["Id"].str.split("_").str[0].drop_duplicates().head(ANTIBODIES_PER_LOCATION)
        for antibody in antibodies:
            rows.append(single[single["Id"].str.startswith(f"{antibody}_")].head(FIELDS_PER_ANTIBODY))
        rows.append(kaggle[kaggle["Target"] == target].head(KAGGLE_PER_LOCATION))
    rows.append(kaggle[kaggle["Target"] == MULTI_LABEL].head(2))
    return pd.concat(rows, ignore_index=True)


def render_image(locations: list[str], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The four uint8 planes of one image: about 20 cells, the protein in each of ``locations``."""
    n = 20
    centres = np.stack([rng.integers(40, SHAPE[0] - 40, n), rng.integers(40, SHAPE[1] - 40, n)], axis=1)
    nucleus = _blobs(SHAPE, centres, 10, rng.uniform(150, 200, n))
    body = _blobs(SHAPE, centres, 22, rng.uniform(70, 100, n))
    protein = np.zeros(SHAPE, np.float32)
    if "nucleus" in locations:
        protein += _blobs(SHAPE, centres, 9, rng.uniform(120, 160, n))
    if "cytosol" in locations:
        protein += _blobs(SHAPE, centres, 24, rng.uniform(60, 90, n))
    if "mitochondria" in locations:  # puncta around each nucleus
        puncta = (centres[:, None, :] + rng.normal(0, 14, (n, 8, 2))).reshape(-1, 2).astype(int).clip(0, SHAPE[0] - 1)
        protein += _blobs(SHAPE, puncta, 3, rng.uniform(120, 180, len(puncta)))
    planes = {"red": body, "green": protein, "blue": nucleus, "yellow": 0.8 * body + 0.2 * nucleus}
    return {c: np.clip(8 + p + rng.normal(0, 3, SHAPE), 0, 255).astype(np.uint8) for c, p in planes.items()}


def annotations(table: pd.DataFrame) -> pd.DataFrame:
    """``ID, Cellline`` of the website images: each cell line gets two antibodies of different
    localisations (Kaggle images have none, as in HPA's tables)."""
    website = table[~table["Id"].str.contains("-")]
    antibodies = list(dict.fromkeys(website["Id"].str.split("_").str[0]))
    line = {a: CELL_LINES[(i + 1) // 2 % len(CELL_LINES)] for i, a in enumerate(antibodies)}
    return pd.DataFrame({"ID": website["Id"], "Cellline": website["Id"].str.split("_").str[0].map(line)})


def write_miniature(root: Path, seed: int = 0) -> pd.DataFrame:
    """The miniature tree under ``root`` (``train.csv``, ``annotations.csv`` and
    ``train/<Id>_<colour>.png``); returns its table."""
    table = miniature_table()
    (root / "train").mkdir(parents=True, exist_ok=True)
    table.to_csv(root / "train.csv", index=False)
    annotations(table).to_csv(root / "annotations.csv", index=False)
    rng = np.random.default_rng(seed)
    for image_id, target in zip(table["Id"], table["Target"], strict=True):
        for colour, plane in render_image([LOCATIONS[t] for t in target.split()], rng).items():
            Image.fromarray(plane).save(root / "train" / f"{image_id}_{colour}.png")
    return table
