"""Cosine similarity of aggregated profiles, ordered by hierarchical clustering or an annotation."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering
from scipy.spatial.distance import squareform

from cell_dino.core.undefined import needs, require
from cell_dino.evaluate.neighbours import unit_rows
from cell_dino.integrate.aggregate import Statistic, aggregate
from cell_dino.integrate.table import feature_matrix, label_of, require_columns

Order = Literal["cluster", "annotation", "none"]


def group_profiles(profiles: pd.DataFrame, by: list[str], statistic: Statistic = "mean") -> pd.DataFrame:
    """Profiles aggregated per group of ``by`` (sorted), metadata constant within groups kept."""
    return aggregate(profiles.drop(columns=["Metadata_Count"], errors="ignore"), by, statistic)


def cosine_similarity(groups: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Cosine similarity of group profiles (one row per group), labelled by :func:`label_of`."""
    normed = unit_rows(feature_matrix(groups.drop(columns=["Metadata_Count"], errors="ignore")))
    labels = label_of(groups, by)
    if labels.duplicated().any():
        raise ValueError(f"similarity by {by}: labels {labels[labels.duplicated()].tolist()[:3]} are not unique")
    return pd.DataFrame(normed @ normed.T, index=labels, columns=labels)


def cluster_order(similarity: pd.DataFrame, method: str = "average") -> list[int]:
    """Leaf order of a hierarchical clustering on cosine distance, optimally ordered (scipy)."""
    if len(similarity) < 3:
        return list(range(len(similarity)))
    distance = np.clip(1.0 - similarity.to_numpy(dtype=np.float64), 0.0, 2.0)
    condensed = squareform((distance + distance.T) / 2, checks=False)
    tree = optimal_leaf_ordering(linkage(condensed, method=method), condensed)
    return leaves_list(tree).tolist()


def annotation_order(labels: pd.Index, annotation: pd.Series) -> list[int]:
    """Rows grouped by an annotation (e.g. the MoA of each treatment), then by label."""
    missing = [label for label in labels if label not in annotation.index]
    if missing:
        raise ValueError(f"annotation order: no annotation for {missing[:3]}")
    keys = pd.DataFrame({"annotation": annotation.reindex(labels).astype(str).to_numpy(), "label": list(labels)})
    return keys.sort_values(["annotation", "label"]).index.tolist()


def keep_top_share(similarity: pd.DataFrame, share: float) -> pd.DataFrame:
    """The ``share`` of groups with the highest mean similarity to the others (DINO4Cells keeps
    the top 50 % of LINCS compounds)."""
    if not 0 < share <= 1:
        raise ValueError(f"top share must be in (0, 1], got {share}")
    values = similarity.to_numpy()
    n = len(values)
    mean_other = (values.sum(axis=1) - np.diag(values)) / max(n - 1, 1)
    keep = np.sort(np.argsort(-mean_other, kind="stable")[: max(1, int(round(share * n)))])
    return similarity.iloc[keep, keep]


def ordered(similarity: pd.DataFrame, order: Order, annotation: pd.Series | None = None) -> pd.DataFrame:
    """``similarity`` with rows and columns in the requested order."""
    if order == "none":
        return similarity
    if order == "cluster":
        index = cluster_order(similarity)
    elif order == "annotation":
        if annotation is None:
            raise ValueError("order 'annotation' needs an annotation column")
        index = annotation_order(similarity.index, annotation)
    else:
        raise ValueError(f"order must be cluster, annotation or none, got {order!r}")
    return similarity.iloc[index, index]


def similarity_table(
    profiles: pd.DataFrame, by: list[str], order: Order, annotation: str | None = None, top_share: float = 1.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Profiles grouped by ``by``, their cosine similarity (the ``top_share`` most similar groups),
    ordered; returns the table (``group``, ``annotation`` when asked, one column per group) and
    the ordered matrix. Raises :class:`~cell_dino.core.undefined.Undefined` when the profiles lack a
    ``by`` column (HPA's cell line without an annotation table) or have fewer than 2 groups."""
    needs(profiles.columns, by, f"similarity by {by}")
    groups = group_profiles(profiles, by)
    require(len(groups) >= 2, f"similarity by {by}: {len(groups)} group(s) with a value; 2 are needed")
    similarity = cosine_similarity(groups, by)
    if top_share < 1:
        similarity = keep_top_share(similarity, top_share)
    labels = None
    if annotation is not None:
        require_columns(groups, [annotation], f"similarity annotation (constant within each group of {by})")
        labels = pd.Series(groups[annotation].to_numpy(), index=label_of(groups, by))
    similarity = ordered(similarity, order, labels)
    table = similarity.rename_axis("group").reset_index()
    if labels is not None:
        table.insert(1, "annotation", labels.reindex(similarity.index).astype(str).to_numpy())
    return table, similarity
