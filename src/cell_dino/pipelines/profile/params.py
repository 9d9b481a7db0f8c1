"""Typed parameters of the profile pipeline."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cell_dino.config import Count, Fraction, NonNegativeInt
from cell_dino.profiling.finite import NonFinitePolicy


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SimilaritySpec(Strict):
    name: str
    level: Literal["fov", "well", "treatment"] = "treatment"
    by: list[str] = Field(default_factory=lambda: ["Metadata_Treatment"])
    order: Literal["cluster", "annotation", "none"] = "cluster"
    annotation: str | None = None  # a metadata column constant within each group (order: annotation)
    top_share: Fraction = 1.0  # keep this share of groups with the highest mean similarity


class CcaSpec(Strict):
    n_components: Count = 5
    n_pcs: Count = 10
    n_splits: Annotated[int, Field(ge=2)] = 5


class ModalitySpec(Strict):
    """Another modality as a table keyed by metadata (e.g. expression per well)."""

    name: str = "modality"
    keys: dict[str, str] = Field(default_factory=lambda: {"plate": "Metadata_Plate", "well": "Metadata_Well"})  # its column -> ours
    exclude: list[str] = Field(default_factory=list)  # numeric columns that are not features
    group_by: list[str] = Field(default_factory=lambda: ["Metadata_Treatment"])
    mantel_permutations: Count = 999
    cca: CcaSpec = Field(default_factory=CcaSpec)


class PseudotimeSpec(Strict):
    column: str = "Metadata_MoA"
    root: str = "DMSO"  # the group the trajectory starts from
    trajectory: list[str] = Field(default_factory=list)  # the other groups on it (empty: all)
    order_column: str | None = "Metadata_Concentration"  # reported: Spearman of pseudotime with it
    n_pcs: Count = 50
    n_neighbors: Annotated[int, Field(ge=2)] = 15
    n_components: Count = 10
    max_cells: Count = 5000


class HeterogeneitySpec(Strict):
    by: list[str] = Field(default_factory=lambda: ["Metadata_Plate", "Metadata_Well"])
    n_components: Count = 50
    min_items: Annotated[int, Field(ge=2)] = 5
    variable: list[str] = Field(default_factory=list)  # groups annotated as variable ('<plate> @ <well>'): top-k curve


class TokenSpec(Strict):
    column: str = "Metadata_MoA"
    reference: str = "DMSO"
    other: str | None = None  # None: every item not in the reference group
    k: Count = 10
    n_components: Count = 32


class ProfileParams(Strict):
    nonfinite: NonFinitePolicy = "drop"  # items / features with NaN or inf: dropped and counted, or the run stops
    normalisation: str = "tvn"
    similarity: list[SimilaritySpec] = Field(default_factory=lambda: [SimilaritySpec(name="treatment")])
    modality: ModalitySpec | None = None
    pseudotime: PseudotimeSpec = Field(default_factory=PseudotimeSpec)
    heterogeneity: HeterogeneitySpec = Field(default_factory=HeterogeneitySpec)
    tokens: TokenSpec = Field(default_factory=TokenSpec)
    seed: NonNegativeInt = 0
