"""Typed parameters of the integrate pipeline."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cell_dino.config import Count, Fraction, NonNegative, NonNegativeInt, Positive
from cell_dino.profiling.aggregate import Statistic
from cell_dino.profiling.finite import NonFinitePolicy

Normalisation = Literal["none", "zscore", "zscore_plate_controls", "tvn", "sphering", "harmony"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TvnParams(_Strict):
    n_components: Count | Fraction | None = 0.99  # share of the controls' variance kept (or a count)


class SpheringParams(_Strict):
    reference: Literal["all", "controls"] = "controls"
    epsilon: Positive = 1e-2


class HarmonyParams(_Strict):
    covariate: str = "Metadata_Batch"
    n_components: Count = 50
    theta: NonNegative = 2.0


class UmapParams(_Strict):
    fit_level: Literal["fov", "well"] = "fov"  # fitted on these profiles, items projected into it
    max_items: Count = 20000  # items projected (a seeded sample when there are more)
    n_neighbors: Annotated[int, Field(ge=2)] = 15
    min_dist: NonNegative = 0.1


class IntegrateParams(_Strict):
    nonfinite: NonFinitePolicy = "drop"  # items / features with NaN or inf: dropped and counted, or the run stops
    fov_statistic: Statistic = "mean"
    well_statistic: Statistic = "mean"
    treatment_statistic: Statistic = "median"
    normalisations: list[Normalisation] = Field(default_factory=lambda: ["none", "zscore", "tvn", "sphering", "harmony"])
    tvn: TvnParams = Field(default_factory=TvnParams)
    sphering: SpheringParams = Field(default_factory=SpheringParams)
    harmony: HarmonyParams = Field(default_factory=HarmonyParams)
    umap: UmapParams = Field(default_factory=UmapParams)
    seed: NonNegativeInt = 0
