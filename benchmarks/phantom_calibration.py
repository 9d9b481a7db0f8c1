"""How the phantom compares with the real screen: CellProfiler features of a phantom preset scored
with the Ljosa et al. (2013) recipe, one JSON line, against the same recipe on the real BBBC021
(``benchmarks/ljosa_profiles.py``: NSC 0.883, NSCB 0.717).

Recipe: CellProfiler features of every cell (the ``cellprofiler`` model's measurement and feature
selection) -> per-well mean -> global z-score -> per-treatment median -> NSC and NSCB (1-NN,
cosine). Also scored: the per-channel mean intensities of the cells alone, which must not explain
NSCB (a phantom whose batches differ only in brightness would make NSCB a test of intensity
normalisation rather than of morphology).

The calibration holds when both figures are within ``TOLERANCE`` of the real ones (``calibrated``).
The phantom is made, ingested and segmented as the demo makes them (``conf/base``), or the stores
of a finished run are used (``--stores data/03_primary``).

    python benchmarks/phantom_calibration.py [--preset demo] [--seed 0] [--stores DIR] [--workers 2] [--effects JSON]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from cell_dino.core.executor import ExecutorConfig
from cell_dino.data import manifest as mf
from cell_dino.data.adapters.bbbc021 import read_bbbc021
from cell_dino.data.crop_store import CropStore
from cell_dino.data.fov_store import FovStore, write_fov_store
from cell_dino.embed.artifacts import read_embeddings
from cell_dino.embed.cellprofiler_job import CellProfilerJob
from cell_dino.evaluate.nsc import moa_matching, treatment_batches
from cell_dino.ingest.preprocessing_job import PreprocessingJob
from cell_dino.integrate.levels import TREATMENT_KEYS, fov_profiles, treatment_profiles, well_profiles
from cell_dino.integrate.normalise import normalised
from cell_dino.phantom import PRESETS, generate_phantom
from cell_dino.pipelines.embed.params import EmbedParams
from cell_dino.pipelines.ingest.params import IngestParams
from cell_dino.pipelines.integrate.params import IntegrateParams
from cell_dino.pipelines.params import load_parameters
from cell_dino.pipelines.segment.params import SegmentParams
from cell_dino.segment.segmentation_job import SegmentationJob, write_crop_store

REPO = Path(__file__).resolve().parents[1]
REAL = {"nsc": 0.883, "nscb": 0.717}  # benchmarks/ljosa_profiles.py, z-score
TOLERANCE = 0.08
EFFECTS = ("moa_strength", "compound_spread", "batch_gain", "batch_morphology", "cell_variation", "moas_in_one_batch")


def stores(preset: str, seed: int, workdir: Path, runtime: ExecutorConfig) -> tuple[FovStore, CropStore]:
    """The phantom ingested and segmented with the project's settings."""
    raw = generate_phantom(workdir / "phantom", preset, seed=seed)
    manifest = read_bbbc021(raw)
    ingest = load_parameters("ingest", IngestParams, REPO)
    fovs = FovStore(write_fov_store(workdir / "fov_store.zarr", PreprocessingJob(manifest, mf.channels_of(manifest), ingest.preprocess)))
    table = manifest.set_index(mf.FOV_KEY).loc[fovs.keys].reset_index()
    segment = load_parameters("segment", SegmentParams, REPO)
    crops = write_crop_store(workdir / "crop_store.zarr", SegmentationJob(fovs, table, segment.config, runtime, segment.shard_size))
    return fovs, CropStore(crops)


def ljosa_scores(cells: pd.DataFrame) -> dict:
    """NSC / NSCB of the Ljosa recipe on per-cell features."""
    wells = normalised(
        well_profiles(fov_profiles(cells, "mean"), "mean"), "zscore", load_parameters("integrate", IntegrateParams, REPO).normalise
    )
    treatments = treatment_profiles(wells, "median")
    return moa_matching(treatments, treatment_batches(wells, treatments, TREATMENT_KEYS)).summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stores", type=Path, default=None, help="a data root's 03_primary with fov_store.zarr and crop_store.zarr")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--effects", type=json.loads, default={}, help="preset fields to override, as JSON: '{\"moa_strength\": 1.5}'")
    args = parser.parse_args()
    if args.effects:
        PRESETS["calibrating"] = dataclasses.replace(PRESETS[args.preset], **args.effects)
    started, runtime = time.perf_counter(), ExecutorConfig(workers=args.workers)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.stores:
            fovs, crops = FovStore(args.stores / "fov_store.zarr"), CropStore(args.stores / "crop_store.zarr")
        else:
            fovs, crops = stores("calibrating" if args.effects else args.preset, args.seed, workdir, runtime)
        config = load_parameters("embed", EmbedParams, REPO).cellprofiler
        job = CellProfilerJob(fovs.images, crops.masks, crops.table(), list(crops.channels.names), config, {}, runtime=runtime)
        job.run(workdir / "cellprofiler")
        cells = read_embeddings(workdir / "cellprofiler")
        intensity = dataclasses.replace(config, groups=("intensity",), selection=())
        CellProfilerJob(fovs.images, crops.masks, crops.table(), list(crops.channels.names), intensity, {}, runtime=runtime).run(
            workdir / "intensity"
        )
        intensities = read_embeddings(workdir / "intensity")
    means = [*intensities.filter(like="Metadata_"), *intensities.filter(like="Cells_Intensity_MeanIntensity_")]
    scores = {"cellprofiler": ljosa_scores(cells), "mean_intensity_only": ljosa_scores(intensities[means])}
    calibrated = all(abs(scores["cellprofiler"][k] - REAL[k]) <= TOLERANCE for k in REAL)
    record = {
        "benchmark": "phantom_calibration",
        "preset": args.preset if not args.stores else str(args.stores),
        "effects": {k: v for k, v in dataclasses.asdict(PRESETS["calibrating" if args.effects else args.preset]).items() if k in EFFECTS},
        "seed": args.seed,
        "n_cells": len(cells),
        "n_features": job.report["n_features_kept"],
        "real_bbbc021": REAL,
        "tolerance": TOLERANCE,
        **scores,
        "calibrated": calibrated,
        "seconds": time.perf_counter() - started,
    }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
