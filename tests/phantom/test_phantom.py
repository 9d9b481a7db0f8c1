"""The phantom: deterministic, in the real BBBC021 layout, with ground truth that matches the pixels."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from cell_dino.data import manifest as mf
from cell_dino.data.adapters.bbbc021 import read_bbbc021
from cell_dino.phantom import PRESETS, generate_phantom
from cell_dino.phantom.design import design_compounds, design_screen
from cell_dino.phantom.phenotypes import PARAMETER_NAMES, Phenotype, moa_shift, treated_phenotype


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_images(test_phantom: Path, tmp_path: Path) -> None:
    again = tree_digest(generate_phantom(tmp_path / "again", "test", seed=0))
    assert again == tree_digest(test_phantom)
    other = tree_digest(generate_phantom(tmp_path / "other", "test", seed=1))
    assert other["BBBC021_v1_image.csv"] != again["BBBC021_v1_image.csv"]


def test_tables_have_the_real_columns_and_line_endings(test_phantom: Path, shared_bbbc021: Path) -> None:
    real = pd.read_csv(shared_bbbc021 / "BBBC021_v1_image.csv.gz", nrows=1)
    phantom = pd.read_csv(test_phantom / "BBBC021_v1_image.csv")
    assert phantom.columns.tolist() == real.columns.tolist()
    moa = (test_phantom / "BBBC021_v1_moa.csv").read_bytes()
    assert b"\n" not in moa and moa.count(b"\r") > 5
    assert moa.split(b"\r")[0] == (shared_bbbc021 / "BBBC021_v1_moa.csv").read_bytes().splitlines()[0]


def test_screen_design_is_like_bbbc021(test_phantom: Path) -> None:
    manifest = read_bbbc021(test_phantom)
    assert manifest[mf.MOA].notna().all()
    per_compound = manifest.groupby(mf.COMPOUND)[mf.BATCH].nunique()
    assert per_compound.drop(["taxol", "DMSO"]).eq(1).all()
    assert per_compound["taxol"] == per_compound["DMSO"] == manifest[mf.BATCH].nunique() == 2
    assert manifest.groupby(mf.PLATE)[mf.CONTROL].any().all()
    batches_per_moa = manifest[~manifest[mf.CONTROL]].groupby(mf.MOA)[mf.BATCH].nunique()
    assert batches_per_moa.ge(2).all()  # every MoA can be matched across batches (NSCB)


def test_demo_preset_is_large_enough_for_moa_matching() -> None:
    preset = PRESETS["demo"]
    design = design_screen(preset, design_compounds(preset, np.random.default_rng(0)), np.random.default_rng(0))
    treated = design[design.compound != "DMSO"]
    assert treated.moa.nunique() >= 6
    assert treated.groupby("moa").compound.nunique().min() >= 2
    assert treated.concentration.nunique() >= 2
    assert design.batch.nunique() >= 3 and design.groupby("batch").plate.nunique().min() >= 2
    # as in BBBC021, some MoAs have all their compounds in one batch (NSC only), the others span batches (NSCB too)
    batches_per_moa = treated[treated.compound != "taxol"].groupby("moa").batch.nunique()
    assert (batches_per_moa == 1).sum() == 3 and (batches_per_moa > 1).sum() == 4


def test_images_are_16_bit_and_ground_truth_matches_pixels(test_phantom: Path) -> None:
    manifest = read_bbbc021(test_phantom)
    row = manifest.iloc[0]
    dna, tubulin, actin = (tifffile.imread(p) for p in mf.image_paths(row, mf.channels_of(manifest)))
    assert dna.dtype == np.uint16 and dna.shape == PRESETS["test"].field_shape
    truth = test_phantom / "ground_truth" / row[mf.PLATE]
    nuclei = tifffile.imread(truth / f"{row[mf.WELL]}_s{row[mf.SITE]}_nuclei.tif")
    cells = tifffile.imread(truth / f"{row[mf.WELL]}_s{row[mf.SITE]}_cells.tif")
    inside = nuclei > 0
    assert np.all(cells[inside] == nuclei[inside])  # every nucleus lies in its own cell
    assert np.median(dna[inside]) > 3 * np.median(dna[cells == 0])
    assert np.median(actin[(cells > 0) & ~inside]) > 1.3 * np.median(actin[cells == 0])
    table = pd.read_parquet(test_phantom / "ground_truth" / "cells.parquet")
    here = table[(table.plate == row[mf.PLATE]) & (table.well == row[mf.WELL]) & (table.site == row[mf.SITE])]
    assert sorted(here.label) == sorted(set(np.unique(cells)) - {0})


@pytest.mark.parametrize(
    ("moa", "measure", "direction"),
    [("DNA damage", "nucleus_area", 1), ("Eg5 inhibitors", "mitotic", 1), ("Actin disruptors", "cell_area", -1)],
)
def test_moa_shifts_morphology_in_the_masks(test_phantom: Path, moa: str, measure: str, direction: int) -> None:
    """Phenotypes are in the pixels: measured from the masks, not read from the design."""
    manifest = read_bbbc021(test_phantom)
    cells = pd.read_parquet(test_phantom / "ground_truth" / "cells.parquet")

    def measured(rows: pd.DataFrame) -> float:
        values = []
        for _, fov in rows.iterrows():
            truth = test_phantom / "ground_truth" / fov[mf.PLATE]
            if measure == "mitotic":
                here = cells[(cells.plate == fov[mf.PLATE]) & (cells.well == fov[mf.WELL]) & (cells.site == fov[mf.SITE])]
                values.extend(here.mitotic.astype(float))
                continue
            kind = "nuclei" if measure == "nucleus_area" else "cells"
            labels = tifffile.imread(truth / f"{fov[mf.WELL]}_s{fov[mf.SITE]}_{kind}.tif")
            values.extend(np.bincount(labels.ravel())[1:])
        return float(np.mean(values))

    control = measured(manifest[manifest[mf.CONTROL]])
    treated = measured(manifest[manifest[mf.MOA] == moa])
    assert direction * (treated - control) > 0.1 * abs(control)
    assert json.loads((test_phantom / "phantom.json").read_text())["n_fovs"] == len(manifest)


def test_effect_sizes_scale_the_moa_shift_and_the_batch_morphology(tmp_path: Path) -> None:
    radius = PARAMETER_NAMES.index("cell_radius")
    shift = moa_shift("Protein synthesis")
    halved = treated_phenotype("Protein synthesis", np.zeros_like(shift), 1.0, moa_strength=0.5).as_array()
    assert halved[radius] == pytest.approx(Phenotype().cell_radius + 0.5 * shift[radius]) and shift[radius] == -3.0
    # a batch's own morphology moves the pixels, never the ground truth of the treatments
    shifted = dataclasses.replace(PRESETS["test"], batch_morphology=3.0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(PRESETS, "shifted", shifted)
        root = generate_phantom(tmp_path / "shifted", "shifted", seed=0)
    plain = generate_phantom(tmp_path / "plain", "test", seed=0)
    truth = [pd.read_parquet(r / "ground_truth/fields.parquet") for r in (root, plain)]
    pd.testing.assert_frame_equal(truth[0], truth[1])
    cells = [pd.read_parquet(r / "ground_truth/cells.parquet") for r in (root, plain)]
    assert not cells[0]["cell_radius"].equals(cells[1]["cell_radius"])


def test_a_phantom_of_older_preset_settings_is_not_reused(tmp_path: Path) -> None:
    root = generate_phantom(tmp_path / "screen", "test", seed=0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(PRESETS, "test", dataclasses.replace(PRESETS["test"], moa_strength=2.0))
        with pytest.raises(FileExistsError, match=r"made with other settings \(\['moa_strength'\]\); pass --overwrite"):
            generate_phantom(root, "test", seed=0)
        assert json.loads((generate_phantom(root, "test", seed=0, overwrite=True) / "phantom.json").read_text())["config"]["moa_strength"] == 2.0
