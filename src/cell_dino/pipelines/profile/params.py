"""Typed parameters of the profile pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from cell_dino.core.config import Count, Fraction, NonNegativeInt
from cell_dino.integrate.finite import NonFinitePolicy
from cell_dino.pipelines.params import Params


class SimilaritySpec(Params):
    name: str
    level: Literal["fov", "well", "treatment"]
    by: list[str]
    order: Literal["cluster", "annotation", "none"]
    annotation: str | None  # a metadata column constant within each group (order: annotation)
    top_share: Fraction  # keep this share of groups with the highest mean similarity


class CcaSpec(Params):
    n_components: Count
    n_pcs: Count
    n_splits: Annotated[int, Field(ge=2)]


class ModalitySpec(Params):
    """Another modality as a table keyed by metadata (e.g. expression per well)."""

    name: str
    keys: dict[str, str]  # its column -> ours
    exclude: list[str]  # numeric columns that are not features
    group_by: list[str]
    mantel_permutations: Count
    cca: CcaSpec


class PseudotimeSpec(Params):
    column: str
    root: str  # the group the trajectory starts from
    trajectory: list[str]  # the other groups on it (empty: all)
    order_column: str | None  # reported: Spearman of pseudotime with it
    n_pcs: Count
    n_neighbors: Annotated[int, Field(ge=2)]
    n_components: Annotated[int, Field(ge=3)]  # scanpy's diffmap needs more than 2 (the first is the stationary state)
    max_cells: Count


class VariabilityAnnotation(Params):
    """A table that annotates groups as variable (HPA's subcellular-location table)."""

    table: Path
    key: str  # its column holding the group label (e.g. Gene, matched to Metadata_Gene)
    columns: list[str]  # a row with any of these filled is variable


class HeterogeneitySpec(Params):
    by: list[str]
    n_components: Count
    min_items: Annotated[int, Field(ge=2)]
    variable: list[str]  # groups annotated as variable ('<plate> @ <well>'): top-k curve
    annotation: VariabilityAnnotation | None  # more of them, from a table


class TokenSpec(Params):
    column: str
    reference: str
    other: str | None  # None: every item not in the reference group
    k: Count
    n_components: Count
    max_tokens: Count  # per group, whole items (at least 2): the search compares every pair of tokens


class ProfileParams(Params):
    nonfinite: NonFinitePolicy  # items / features with NaN or inf: dropped and counted, or the run stops
    normalisation: str  # the integrate normalisation the profile-level analyses read
    similarity: list[SimilaritySpec]
    modality: ModalitySpec | None
    pseudotime: PseudotimeSpec | None  # None: no trajectory in the data set (undefined, with that reason)
    heterogeneity: HeterogeneitySpec
    tokens: TokenSpec
    seed: NonNegativeInt
