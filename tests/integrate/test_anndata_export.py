"""The items as AnnData: written as .h5ad, read back with anndata, and scanpy takes over."""

from __future__ import annotations

from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import scanpy as sc

from cell_dino.datasets.files import H5adDataset
from cell_dino.integrate.anndata_export import item_anndata
from cell_dino.integrate.table import feature_columns
from cell_dino.pipelines.integrate.nodes import embed_umap, export_anndata
from cell_dino.pipelines.integrate.params import IntegrateParams
from tests.fixtures import bbbc021_wells, items_of, planted
from tests.projects import parameters


def test_items_h5ad_opens_with_anndata_and_scanpys_umap_runs_on_it(tmp_path: Path, bbbc021_manifest: pd.DataFrame) -> None:
    items = planted(items_of(bbbc021_wells(bbbc021_manifest, ["Actin disruptors", "DNA damage"])), seed=2)
    items.loc[5, "f_0003"] = np.nan  # a non-finite item is left out, as from every other output
    params = parameters("integrate", IntegrateParams, umap={"max_items": 40})
    umap, _ = embed_umap(items, params)
    path = tmp_path / "items.h5ad"
    H5adDataset(str(path)).save(export_anndata(items, umap, params))
    data = anndata.read_h5ad(path)
    kept = items.drop(index=5).reset_index(drop=True)
    assert data.shape == (len(kept), 16) and list(data.var_names) == feature_columns(items)
    np.testing.assert_array_equal(data.X, kept[feature_columns(items)].to_numpy(np.float32))
    assert list(data.obs_names) == kept["Metadata_Index"].astype(str).tolist()
    assert data.obs["Metadata_MoA"].tolist() == kept["Metadata_MoA"].tolist()
    assert data.obsm["X_pca"].shape == (len(kept), 15)
    projected = np.isfinite(data.obsm["X_umap"]).all(axis=1)
    assert projected.sum() == len(umap) == 40
    by_index = umap.set_index("Metadata_Index")
    np.testing.assert_allclose(data.obsm["X_umap"][projected], by_index.loc[kept["Metadata_Index"][projected], ["umap_0", "umap_1"]])
    sc.pp.neighbors(data, n_neighbors=10, use_rep="X_pca")
    sc.tl.umap(data, random_state=0)
    assert data.obsm["X_umap"].shape == (len(kept), 2) and np.isfinite(data.obsm["X_umap"]).all()


def test_repeated_items_and_missing_metadata_survive_the_h5ad(tmp_path: Path) -> None:
    """6 items of 2 distinct rows stopped ARPACK's PCA; a missing value came back as the text 'nan'."""
    items = pd.DataFrame(
        {
            "Metadata_Index": range(6),
            "Metadata_MoA": ["DMSO", None, "A", "A", "DMSO", "A"],
            "f_0": [1.0, 2.0] * 3,
            "f_1": [3.0, 5.0] * 3,
            "f_2": [0.0, 1.0] * 3,
        }
    )
    path = tmp_path / "items.h5ad"
    H5adDataset(str(path)).save(item_anndata(items, pd.DataFrame()))
    data = anndata.read_h5ad(path)
    assert data.obs["Metadata_MoA"].isna().tolist() == [False, True, False, False, False, False]
    assert data.obsm["X_pca"].shape == (6, 2) and "X_umap" not in data.obsm
