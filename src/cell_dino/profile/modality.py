"""Image profiles against another modality measured on the same groups (expression, a panel of
measurements, a phantom's true phenotype): the other table joined to the wells on its key
columns and aggregated per group, then the Mantel test (image cosine distance against the
modality's distance on z-scored features) and CCA with held-out top-1 matching."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import pdist, squareform

from cell_dino.core.undefined import attempt, require
from cell_dino.integrate.aggregate import aggregate
from cell_dino.integrate.table import feature_matrix
from cell_dino.profile.cca import cca_matching
from cell_dino.profile.mantel import mantel
from cell_dino.profile.profile_similarity import group_profiles


def modality_groups(
    modality: pd.DataFrame, wells: pd.DataFrame, keys: dict[str, str], exclude: list[str], group_by: list[str]
) -> pd.DataFrame:
    """The modality's numeric features (not ``exclude``) per group of ``group_by`` (median), joined
    to ``wells`` on ``keys`` (its column -> ours)."""
    missing = [c for c in keys if c not in modality.columns]
    if missing:
        raise ValueError(f"profile.modality.keys: {missing} are not columns of the modality table ({list(modality.columns)[:12]})")
    table = modality.rename(columns=keys)
    ours = list(keys.values())
    features = [c for c in table.columns if c not in ours and c not in exclude and pd.api.types.is_numeric_dtype(table[c])]
    if not features:
        raise ValueError("profile.modality: the table has no numeric feature columns beyond the keys and profile.modality.exclude")
    table = table[ours + features].groupby(ours, as_index=False).mean()
    joined = wells[list(dict.fromkeys(ours + group_by))].drop_duplicates(ours).merge(table, on=ours, how="inner")
    require(not joined.empty, f"no row of the modality table matches a well on {keys}")
    return aggregate(joined.drop(columns=[k for k in ours if k not in group_by]), group_by, "median")


def shared_groups(wells: pd.DataFrame, other: pd.DataFrame, group_by: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Image profiles (median of wells) and the modality's z-scored features of the groups both
    have, row for row."""
    image = group_profiles(wells, group_by, "median")
    shared = image[group_by].merge(other[group_by], on=group_by)
    x = feature_matrix(shared.merge(image, on=group_by).drop(columns="Metadata_Count"))
    y = feature_matrix(shared.merge(other, on=group_by).drop(columns="Metadata_Count"))
    y = y[:, y.std(axis=0) > 0]
    require(y.shape[1] > 0, "the other modality has no feature that varies across the shared groups")
    return x, (y - y.mean(axis=0)) / y.std(axis=0)


def compare_modalities(
    x: np.ndarray, y: np.ndarray, permutations: int, cca_components: int, cca_pcs: int, cca_splits: int, seed: int = 0
) -> tuple[dict, dict[str, str]]:
    """Mantel r and p (``permutations``) and CCA held-out matching with its chance level; a test
    the groups cannot support is NaN, its reason in the second output."""
    undefined: dict[str, str] = {}
    test = attempt("mantel", lambda: mantel(squareform(pdist(x, "cosine")), squareform(pdist(y)), permutations, seed=seed), undefined)
    cca = attempt("cca", lambda: cca_matching(x, y, cca_components, cca_pcs, cca_splits, seed), undefined)
    nan = float("nan")
    row = {
        "n_groups": len(x),
        "mantel_r": test.statistic if test else nan,
        "mantel_p": test.p_value if test else nan,
        "mantel_permutations": test.permutations if test else 0,
        "cca_matching": cca.matching_accuracy if cca else nan,
        "cca_chance": cca.chance if cca else nan,
        "canonical_correlations": cca.correlations if cca else [],
    }
    return row, undefined
