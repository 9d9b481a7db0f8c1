"""Cell-to-cell heterogeneity of groups (fields, wells, genes): the spread of their single-cell
features, a ranking, and how well the ranking recovers groups annotated as variable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cell_dino.core.undefined import require
from cell_dino.data.tables import read_csv_any_newline
from cell_dino.data.tables import require_columns as require_table_columns
from cell_dino.integrate.aggregate import aggregate
from cell_dino.integrate.reduce import standardised_pcs
from cell_dino.integrate.table import feature_matrix, label_of, metadata_columns, require_columns


def group_spread(items: pd.DataFrame, by: list[str], n_components: int = 50, min_items: int = 5, seed: int = 0) -> pd.DataFrame:
    """Per group of ``by``: root-mean-square distance of its items to the group mean, in the
    principal components of the features standardised over all items; groups with fewer than
    ``min_items`` are left out. Sorted from most to least heterogeneous, with ``rank`` from 1."""
    require_columns(items, by, "heterogeneity")
    items = items.loc[items[by].notna().all(axis=1).to_numpy()]  # an item without a group value belongs to no group
    require(len(items) > 0, f"heterogeneity: no item has a value in {by}")
    reduced = standardised_pcs(feature_matrix(items), n_components, seed)
    keys = [items[c].to_numpy() for c in by]
    centred = reduced - pd.DataFrame(reduced).groupby(keys, sort=False).transform("mean").to_numpy()
    squared = pd.Series((centred**2).sum(axis=1))
    table = squared.groupby(keys).agg(["size", "mean"]).rename(columns={"size": "n_items", "mean": "spread"})
    table["spread"] = np.sqrt(table["spread"])
    table = table[table["n_items"] >= min_items].sort_values("spread", ascending=False, kind="stable")
    return table.rename_axis(by).reset_index().assign(rank=lambda t: np.arange(1, len(t) + 1))


def top_k_curve(ranking: pd.DataFrame, by: list[str], annotated: set) -> pd.DataFrame:
    """For k = 1..n: the share of the top-k groups that are annotated as variable (precision) and
    the share of annotated groups found in the top k (recall). Groups of several columns are
    named by their values joined with ' @ '."""
    hits = label_of(ranking, by).isin(annotated).to_numpy()
    require(bool(hits.any()), f"heterogeneity: none of the annotated groups {sorted(annotated)[:5]} is among the ranked {by} groups")
    k = np.arange(1, len(hits) + 1)
    found = np.cumsum(hits)
    return pd.DataFrame({"k": k, "precision": found / k, "recall": found / hits.sum()})


def annotated_variable(table: Path, key: str, columns: list[str]) -> list[str]:
    """The ``key`` values (e.g. HPA's ``Gene``) of the rows of an annotation ``table`` with any of
    ``columns`` filled: the groups annotated as variable. DINO4Cells ranks HPA genes against the
    "Single-cell variation intensity" and "Single-cell variation spatial" columns of HPA's
    subcellular-location table. Raises :class:`~cell_dino.data.errors.ManifestError` naming the
    table and its absent columns."""
    annotation = read_csv_any_newline(table, [key])
    require_table_columns(annotation, [key, *columns], table)
    filled = annotation[columns].notna().any(axis=1) & annotation[columns].astype("string").fillna("").ne("").any(axis=1)
    return sorted(annotation.loc[filled, key].astype(str).unique())


LABELS = ("Metadata_MoA", "Metadata_Compound", "Metadata_Treatment")


def ranked_groups(
    items: pd.DataFrame, by: list[str], n_components: int, min_items: int, variable: list[str], seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`group_spread` with each group's labels (MoA, compound, treatment where constant) and,
    when groups are annotated as ``variable``, the top-k curve; raises
    :class:`~cell_dino.core.undefined.Undefined` when no group has ``min_items``."""
    ranking = group_spread(items, by, n_components, min_items, seed)
    require(not ranking.empty, f"no {' / '.join(by)} group has {min_items} items")
    constant = aggregate(items.drop(columns=["Metadata_Index", "Metadata_Count"], errors="ignore"), by)
    ranking = ranking.merge(constant[[c for c in metadata_columns(constant) if c in (*LABELS, *by)]], on=by, how="left")
    return ranking, top_k_curve(ranking, by, set(variable)) if variable else pd.DataFrame()
