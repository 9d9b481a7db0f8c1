"""Nodes of the integrate pipeline: aggregation, normalisation / batch correction, UMAP."""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from cell_dino.pipelines.integrate.params import IntegrateParams, Normalisation
from cell_dino.profiling.batch_correction import harmony
from cell_dino.profiling.levels import fov_profiles, treatment_profiles, well_profiles
from cell_dino.profiling.normalise import sphering, tvn, zscore
from cell_dino.profiling.reduce import umap_coordinates
from cell_dino.reporting import peak_rss_mb

log = logging.getLogger(__name__)


def normalise_wells(wells: pd.DataFrame, method: Normalisation, params: IntegrateParams) -> pd.DataFrame:
    """Well profiles after one normalisation or batch correction (fitted at well level)."""
    if method == "none":
        return wells
    if method == "zscore":
        return zscore(wells, "all")
    if method == "zscore_plate_controls":
        return zscore(wells, "controls", by="Metadata_Plate")
    if method == "tvn":
        return tvn(wells, params.tvn.n_components)
    if method == "sphering":
        return sphering(wells, params.sphering.reference, params.sphering.epsilon)
    if method == "harmony":
        scaled = zscore(wells, "all")  # PCA, then Harmony, on comparable feature scales
        return harmony(scaled, params.harmony.covariate, params.harmony.n_components, params.harmony.theta, params.seed)
    raise ValueError(f"unknown normalisation {method!r}")


def integrate_profiles(embeddings: pd.DataFrame, params: IntegrateParams) -> dict[str, pd.DataFrame]:
    """``fov``, and per normalisation ``<method>/well`` and ``<method>/treatment`` profiles."""
    started = time.perf_counter()
    fovs = fov_profiles(embeddings, params.fov_statistic)
    wells = well_profiles(fovs, params.well_statistic)
    out = {"fov": fovs}
    for method in params.normalisations:
        normalised = normalise_wells(wells, method, params)
        out[f"{method}/well"] = normalised
        out[f"{method}/treatment"] = treatment_profiles(normalised, params.treatment_statistic)
    log.info("integrated %d items -> %d FOVs -> %d wells in %.1f s", len(embeddings), len(fovs), len(wells), time.perf_counter() - started)
    return out


def embed_umap(embeddings: pd.DataFrame, params: IntegrateParams) -> pd.DataFrame:
    """UMAP fitted on FOV (or well) means, with a seeded sample of items projected into it."""
    fit_on = fov_profiles(embeddings, params.fov_statistic)
    if params.umap.fit_level == "well":
        fit_on = well_profiles(fit_on, params.well_statistic)
    rng = np.random.default_rng(params.seed)
    items = embeddings
    if len(items) > params.umap.max_items:
        items = items.iloc[np.sort(rng.choice(len(items), params.umap.max_items, replace=False))]
    features = [c for c in items.columns if not c.startswith("Metadata_")]
    fit_on = fit_on[[c for c in fit_on.columns if c.startswith("Metadata_") and c != "Metadata_Count"] + features]
    return umap_coordinates(items.reset_index(drop=True), fit_on, params.umap.n_neighbors, params.umap.min_dist, seed=params.seed)


def report_integration(profiles: dict, umap: pd.DataFrame) -> dict:
    """``08_reporting/integrate_<model>.json``: sizes per level and normalisation."""
    sizes = {key: len(load()) for key, load in sorted(profiles.items())}
    return {"n_inputs": int(sizes.get("fov", 0)), "n_outputs": len(sizes), "levels": sizes, "umap_items": len(umap), "peak_rss_mb": peak_rss_mb()}
