"""Nodes of the integrate pipeline: aggregation, normalisation / batch correction, UMAP.

Embeddings are checked for non-finite features first (``integrate.nonfinite``); a normalisation
or the UMAP that the data cannot support (too few controls, batches or profiles) is skipped, its
reason in the report, and the others are still written."""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from cell_dino.pipelines.integrate.params import IntegrateParams, Normalisation
from cell_dino.profiling.batch_correction import harmony
from cell_dino.profiling.finite import finite_profiles
from cell_dino.profiling.levels import fov_profiles, treatment_profiles, well_profiles
from cell_dino.profiling.normalise import sphering, tvn, zscore
from cell_dino.profiling.reduce import umap_coordinates
from cell_dino.reporting import peak_rss_mb
from cell_dino.undefined import attempt

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


def integrate_profiles(embeddings: pd.DataFrame, params: IntegrateParams) -> tuple[dict[str, pd.DataFrame], dict]:
    """``fov``, and per normalisation ``<method>/well`` and ``<method>/treatment`` profiles; and a
    record of the non-finite values dropped and the normalisations skipped (with reasons)."""
    started = time.perf_counter()
    items, nonfinite = finite_profiles(embeddings, params.nonfinite, "embeddings")
    fovs = fov_profiles(items, params.fov_statistic)
    wells = well_profiles(fovs, params.well_statistic)
    out, undefined = {"fov": fovs}, {}
    for method in params.normalisations:
        normalised = attempt(method, lambda m=method: normalise_wells(wells, m, params), undefined)
        if normalised is not None:
            out[f"{method}/well"] = normalised
            out[f"{method}/treatment"] = treatment_profiles(normalised, params.treatment_statistic)
    seconds = time.perf_counter() - started
    log.info("integrated %d items -> %d FOVs -> %d wells in %.1f s", len(items), len(fovs), len(wells), seconds)
    return out, {"n_items": len(embeddings), "nonfinite": nonfinite, "undefined": undefined, "seconds": seconds}


def embed_umap(embeddings: pd.DataFrame, params: IntegrateParams) -> tuple[pd.DataFrame, dict]:
    """UMAP fitted on FOV (or well) means, with a seeded sample of items projected into it; empty,
    with the reason in the record, when there are too few profiles to fit on."""
    items, _ = finite_profiles(embeddings, params.nonfinite, "embeddings")
    fit_on = fov_profiles(items, params.fov_statistic)
    if params.umap.fit_level == "well":
        fit_on = well_profiles(fit_on, params.well_statistic)
    if len(items) > params.umap.max_items:
        rng = np.random.default_rng(params.seed)
        items = items.iloc[np.sort(rng.choice(len(items), params.umap.max_items, replace=False))]
    features = [c for c in items.columns if not c.startswith("Metadata_")]
    fit_on = fit_on[[c for c in fit_on.columns if c.startswith("Metadata_") and c != "Metadata_Count"] + features]
    undefined: dict[str, str] = {}
    umap = attempt("umap", lambda: umap_coordinates(items.reset_index(drop=True), fit_on, params.umap.n_neighbors, params.umap.min_dist,
                                                    seed=params.seed), undefined)  # fmt: skip
    return (pd.DataFrame() if umap is None else umap), {"undefined": undefined}


def report_integration(profiles: dict, integration: dict, umap: pd.DataFrame, umap_record: dict) -> dict:
    """``08_reporting/integrate_<model>.json``: sizes per level and normalisation, what was
    dropped as non-finite, what was skipped and why."""
    sizes = {key: len(load()) for key, load in sorted(profiles.items())}
    return {"n_inputs": integration["n_items"], "n_outputs": len(sizes), "levels": sizes, "umap_items": len(umap),
            "nonfinite": integration["nonfinite"], "undefined": {**integration["undefined"], **umap_record["undefined"]},
            "seconds": integration["seconds"], "peak_rss_mb": peak_rss_mb()}  # fmt: skip
