"""Nodes of the integrate pipeline: aggregation and normalisation of a model's embeddings, and the
UMAP of its items."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cell_dino.core.reporting import run_report
from cell_dino.integrate.anndata_export import item_anndata
from cell_dino.integrate.finite import finite_profiles
from cell_dino.integrate.integration import integrate
from cell_dino.integrate.levels import fov_profiles, well_profiles
from cell_dino.integrate.reduce import item_umap
from cell_dino.integrate.table import partition
from cell_dino.pipelines.integrate.params import IntegrateParams


def integrate_profiles(embeddings: pd.DataFrame, params: IntegrateParams) -> tuple[dict[str, pd.DataFrame], dict]:
    """``fov``, and per normalisation ``<method>/well`` and ``<method>/treatment`` profiles; and a
    record of the non-finite values dropped and the normalisations skipped (with reasons)."""
    return integrate(embeddings, params)


def embed_umap(embeddings: pd.DataFrame, params: IntegrateParams) -> tuple[pd.DataFrame, dict]:
    """UMAP fitted on FOV (or well) means (those with ``umap.fit_only`` set, when given), with a
    seeded sample of items projected into it; empty, with the reason in the record, when there are
    too few profiles to fit on."""
    items, _ = finite_profiles(embeddings, params.nonfinite, "embeddings")
    fit_on = fov_profiles(items, params.fov_statistic, params.levels.fov)
    if params.umap.fit_level == "well":
        fit_on = well_profiles(fit_on, params.well_statistic, params.levels.well)
    u = params.umap
    if u.fit_only is not None:
        if u.fit_only not in fit_on:
            return pd.DataFrame(), {"undefined": {"umap": f"integrate.umap.fit_only: the profiles have no {u.fit_only} column"}}
        fit_on = fit_on.loc[fit_on[u.fit_only].notna()]
    return item_umap(items, fit_on, u.max_items, u.n_neighbors, u.min_dist, params.seed)


def export_anndata(embeddings: pd.DataFrame, umap: pd.DataFrame, params: IntegrateParams) -> Any:
    """``05_model_input/<model>/items.h5ad``: the finite item embeddings as an ``anndata.AnnData``,
    with scanpy's PCA and the UMAP coordinates of the items it projected. (Annotated ``Any``:
    Kedro resolves the nodes' type hints at run time, and anndata is imported only when it runs.)"""
    items, _ = finite_profiles(embeddings, params.nonfinite, "embeddings")
    return item_anndata(items, umap, seed=params.seed)


def report_integration(profiles: dict, integration: dict, umap: pd.DataFrame, umap_record: dict) -> dict:
    """``08_reporting/integrate_<model>.json``: sizes per level and normalisation, what was dropped
    as non-finite, what was skipped and why."""
    sizes = {key: len(partition(profiles, key)) for key in sorted(profiles)}
    return run_report(
        integration["n_items"],
        len(sizes),
        integration["seconds"],
        levels=sizes,
        umap_items=len(umap),
        nonfinite=integration["nonfinite"],
        undefined={**integration["undefined"], **umap_record["undefined"]},
    )
