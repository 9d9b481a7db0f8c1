"""Typed parameters of the integrate pipeline."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cell_dino.profiling.aggregate import Statistic

Normalisation = Literal["none", "zscore", "zscore_plate_controls", "tvn", "sphering", "harmony"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TvnParams(_Strict):
    n_components: int | float | None = 0.99  # share of the controls' variance kept (or a count)


class SpheringParams(_Strict):
    reference: Literal["all", "controls"] = "controls"
    epsilon: float = 1e-2


class HarmonyParams(_Strict):
    covariate: str = "Metadata_Batch"
    n_components: int = 50
    theta: float = 2.0


class UmapParams(_Strict):
    fit_level: Literal["fov", "well"] = "fov"  # fitted on these profiles, items projected into it
    max_items: int = 20000  # items projected (a seeded sample when there are more)
    n_neighbors: int = 15
    min_dist: float = 0.1


class IntegrateParams(_Strict):
    fov_statistic: Statistic = "mean"
    well_statistic: Statistic = "mean"
    treatment_statistic: Statistic = "median"
    normalisations: list[Normalisation] = Field(default_factory=lambda: ["none", "zscore", "tvn", "sphering", "harmony"])
    tvn: TvnParams = Field(default_factory=TvnParams)
    sphering: SpheringParams = Field(default_factory=SpheringParams)
    harmony: HarmonyParams = Field(default_factory=HarmonyParams)
    umap: UmapParams = Field(default_factory=UmapParams)
    seed: int = 0
