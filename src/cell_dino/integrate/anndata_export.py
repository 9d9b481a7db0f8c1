"""Item embeddings as AnnData, so that scverse users take over: ``obs`` the items' metadata, ``X``
the features, ``obsm["X_pca"]`` scanpy's PCA and ``obsm["X_umap"]`` the project's UMAP of the
items it projected. Written as ``.h5ad`` by :class:`cell_dino.datasets.files.H5adDataset`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cell_dino.integrate.levels import ITEM_INDEX
from cell_dino.integrate.table import feature_columns, feature_matrix, metadata_columns

if TYPE_CHECKING:
    import anndata

UMAP = ["umap_0", "umap_1"]


def item_anndata(items: pd.DataFrame, umap: pd.DataFrame, n_pcs: int = 50, seed: int = 0) -> anndata.AnnData:
    """AnnData of ``items`` (one row per cell or FOV, ``Metadata_*`` and features): ``X`` float32
    (items x features), ``obs`` the metadata (text as categories, missing values missing; indexed by ``Metadata_Index``
    where present), ``var`` the feature names, ``obsm["X_pca"]`` the first ``n_pcs`` principal
    components (scanpy's ``sc.pp.pca``; fewer when the items support fewer) and, when ``umap``
    (``Metadata_Index``, ``umap_0``, ``umap_1``) is not empty, ``obsm["X_umap"]`` (items x 2,
    NaN for items outside its sample)."""
    import anndata
    import scanpy as sc

    obs = items[metadata_columns(items)].reset_index(drop=True)
    for column in obs.select_dtypes(include=["object", "string"]).columns:
        obs[column] = obs[column].where(obs[column].isna(), obs[column].astype(str)).astype("category")  # missing stays missing
    if ITEM_INDEX in obs:
        obs.index = obs[ITEM_INDEX].astype(str).to_numpy()
    else:
        obs.index = obs.index.astype(str)
    data = anndata.AnnData(feature_matrix(items).astype(np.float32), obs=obs, var=pd.DataFrame(index=feature_columns(items)))
    components = min(n_pcs, data.n_obs - 1, data.n_vars - 1)
    if components >= 1:
        sc.pp.pca(data, n_comps=components, svd_solver="full", random_state=seed)  # LAPACK: ARPACK fails on repeated rows
    if len(umap) and ITEM_INDEX in umap and ITEM_INDEX in items:
        data.obsm["X_umap"] = umap.set_index(ITEM_INDEX)[UMAP].reindex(items[ITEM_INDEX].to_numpy()).to_numpy(np.float32)
    return data
