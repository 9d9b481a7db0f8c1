"""Write a phantom screen to disk in the exact BBBC021 layout, with ground truth beside it.

    <root>/BBBC021_v1_image.csv          real column names
    <root>/BBBC021_v1_moa.csv            carriage-return-only line endings, as the original download
    <root>/WeekN/WeekN_<plate>/*.tif     16-bit, one file per channel (w1 DNA, w2 Tubulin, w4 Actin)
    <root>/ground_truth/WeekN_<plate>/<well>_s<site>_{nuclei,cells}.tif   instance masks
    <root>/ground_truth/{cells,fields}.parquet   per-cell and per-field phenotype parameters
    <root>/ground_truth/illumination/WeekN.tif   each batch's true illumination field
    <root>/phantom.json                  preset, seed and counts; written last
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
from tqdm import tqdm

from cell_dino import __version__
from cell_dino.core.atomic import atomic_path
from cell_dino.phantom.acquisition import acquire, batch_optics
from cell_dino.phantom.design import design_compounds, design_screen
from cell_dino.phantom.phenotypes import PARAMETER_NAMES, PARAMETER_SCALE, Phenotype
from cell_dino.phantom.presets import PRESETS, PhantomPreset
from cell_dino.phantom.render import render_field

log = logging.getLogger(__name__)

WAVELENGTHS = {"DAPI": 1, "Tubulin": 2, "Actin": 4}
IMAGE_TABLE_COLUMNS = [
    "TableNumber", "ImageNumber",
    "Image_FileName_DAPI", "Image_PathName_DAPI", "Image_FileName_Tubulin", "Image_PathName_Tubulin",
    "Image_FileName_Actin", "Image_PathName_Actin", "Image_Metadata_Plate_DAPI", "Image_Metadata_Well_DAPI",
    "Replicate", "Image_Metadata_Compound", "Image_Metadata_Concentration",
]


def _uuid(rng: np.random.Generator) -> str:
    digits = "".join(f"{b:02X}" for b in rng.integers(0, 256, 16))
    return "-".join((digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:]))


def _file_names(batch: int, well: str, site: int, rng: np.random.Generator) -> dict[str, str]:
    """BBBC021-style names; batch 1 carries a date prefix, the others none (both occur for real)."""
    prefix = f"Week{batch}_1506{batch:02d}_" if batch == 1 else ""
    return {ch: f"{prefix}{well}_s{site}_w{w}{_uuid(rng)}.tif" for ch, w in WAVELENGTHS.items()}


def _moa_table_text(design: pd.DataFrame) -> str:
    treatments = design[["compound", "concentration", "moa"]].drop_duplicates().sort_values(["compound", "concentration"])
    lines = ['"compound",concentration,"moa"']
    lines += [f'"{c}",{conc:.6f},"{m}"' for c, conc, m in treatments.itertuples(index=False)]
    return "\r".join(lines) + "\r"


def _write_screen(root: Path, preset: PhantomPreset, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    compounds = design_compounds(preset, rng)
    design = design_screen(preset, compounds, rng)
    optics = {b: batch_optics(preset.field_shape, 3, rng, preset.batch_gain) for b in range(1, preset.batches + 1)}
    plate_gain = {p: float(rng.lognormal(0, 0.05)) for p in design["plate"].unique()}
    batch_shift = {b: rng.normal(0, preset.batch_morphology, PARAMETER_SCALE.size) * PARAMETER_SCALE for b in optics} if preset.batch_morphology else {}
    field_seeds = np.random.SeedSequence(seed).spawn(len(design))

    image_rows, cell_tables = [], []
    for index, fov in tqdm(design.iterrows(), total=len(design), desc="phantom", unit="FOV", leave=False, disable=None):
        rng_fov = np.random.default_rng(field_seeds[index])
        phenotype = Phenotype(**{name: fov[name] for name in PARAMETER_NAMES})  # the treatment's (the ground truth)
        if fov.batch in batch_shift:  # the batch's own morphology, not part of the truth
            phenotype = Phenotype.from_array(phenotype.as_array() + batch_shift[fov.batch]).clipped()
        n_cells = rng_fov.poisson(preset.cells_per_field * phenotype.density)
        truth = render_field(phenotype, preset.field_shape, n_cells, rng_fov, preset.cell_variation)
        image = acquire(truth.signal, optics[fov.batch], plate_gain[fov.plate], rng_fov)
        folder = f"Week{fov.batch}/{fov.plate}"
        names = _file_names(fov.batch, fov.well, fov.site, rng_fov)
        (root / folder).mkdir(parents=True, exist_ok=True)
        for plane, file_name in zip(image, names.values()):
            tifffile.imwrite(root / folder / file_name, plane)
        truth_dir = root / "ground_truth" / fov.plate
        truth_dir.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(truth_dir / f"{fov.well}_s{fov.site}_nuclei.tif", truth.nuclei)
        tifffile.imwrite(truth_dir / f"{fov.well}_s{fov.site}_cells.tif", truth.cells)
        cell_tables.append(truth.table.assign(plate=fov.plate, well=fov.well, site=fov.site))
        image_rows.append(
            {
                "TableNumber": fov.batch, "ImageNumber": index + 1,
                **{f"Image_{kind}_{ch}": value for ch in WAVELENGTHS for kind, value in (("FileName", names[ch]), ("PathName", folder))},
                "Image_Metadata_Plate_DAPI": fov.plate, "Image_Metadata_Well_DAPI": fov.well,
                "Replicate": fov.replicate, "Image_Metadata_Compound": fov.compound,
                "Image_Metadata_Concentration": fov.concentration,
            }
        )

    pd.DataFrame(image_rows)[IMAGE_TABLE_COLUMNS].to_csv(root / "BBBC021_v1_image.csv", index=False)
    (root / "BBBC021_v1_moa.csv").write_bytes(_moa_table_text(design).encode())
    pd.concat(cell_tables, ignore_index=True).to_parquet(root / "ground_truth" / "cells.parquet")
    design.to_parquet(root / "ground_truth" / "fields.parquet")
    (root / "ground_truth" / "illumination").mkdir()
    for batch, batch_optic in optics.items():
        tifffile.imwrite(root / "ground_truth" / "illumination" / f"Week{batch}.tif", batch_optic.illumination.astype(np.float32), photometric="minisblack")
    return {"n_fovs": len(design), "n_cells": int(sum(len(t) for t in cell_tables)), "n_compounds": len(compounds)}


def generate_phantom(out: str | Path, preset: str = "test", seed: int = 0, overwrite: bool = False) -> Path:
    """Write the phantom screen ``preset`` to ``out``, atomically; deterministic for a seed.

    An existing phantom with the same preset, seed and preset settings is kept unless ``overwrite``;
    one made with other settings of the preset (an older calibration) raises ``FileExistsError``.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown phantom preset {preset!r}; choose one of {sorted(PRESETS)}")
    out = Path(out)
    marker = out / "phantom.json"
    if marker.is_file() and not overwrite:
        existing = json.loads(marker.read_text())
        if existing.get("preset") == preset and existing.get("seed") == seed:
            changed = sorted(k for k, v in json.loads(json.dumps(asdict(PRESETS[preset]))).items() if existing.get("config", {}).get(k) != v)
            if changed:
                raise FileExistsError(f"{out} holds preset {preset!r} made with other settings ({changed}); pass --overwrite (overwrite=True) to remake it")
            log.info("phantom %s (preset %s, seed %d) already present", out, preset, seed)
            return out
        raise FileExistsError(f"{out} holds another phantom ({existing.get('preset')}, seed {existing.get('seed')}); pass --overwrite (overwrite=True)")
    if out.exists() and not overwrite and not marker.is_file():
        raise FileExistsError(f"{out} exists and is not a phantom; choose another folder or pass --overwrite (overwrite=True)")
    with atomic_path(out) as tmp:
        tmp.mkdir(parents=True)
        counts = _write_screen(tmp, PRESETS[preset], seed)
        record = {"preset": preset, "seed": seed, "version": __version__, **counts, "config": asdict(PRESETS[preset])}
        (tmp / "phantom.json").write_text(json.dumps(record, indent=2))
    log.info("phantom %s: %d FOVs, %d cells", out, counts["n_fovs"], counts["n_cells"])
    return out
