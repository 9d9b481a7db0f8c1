"""Typed parameters of the integrate pipeline."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from cell_dino.core.config import Count, NonNegative, NonNegativeInt
from cell_dino.integrate.aggregate import Statistic
from cell_dino.integrate.finite import NonFinitePolicy
from cell_dino.integrate.levels import Levels
from cell_dino.integrate.normalise import Method, NormalisationLevel, NormalisationSettings
from cell_dino.pipelines.params import Params


class UmapParams(Params):
    fit_level: Literal["fov", "well"]  # fitted on these profiles, items projected into it
    fit_only: str | None  # fitted only on the profiles where this column is set (HPA: Metadata_Location, the single-label images)
    max_items: Count  # items projected (a seeded sample when there are more)
    n_neighbors: Annotated[int, Field(ge=2)]
    min_dist: Annotated[NonNegative, Field(le=1)]  # at most UMAP's spread (1)


class IntegrateParams(Params):
    levels: Levels  # the grouping keys of the FOV, well and treatment levels
    nonfinite: NonFinitePolicy  # items / features with NaN or inf: dropped and counted, or the run stops
    fov_statistic: Statistic
    well_statistic: Statistic
    treatment_statistic: Statistic
    normalisations: list[Method]
    normalise_level: NormalisationLevel  # well: fitted on well profiles | fov: on FOV profiles, then well means (WS-DINO)
    normalise: NormalisationSettings
    umap: UmapParams
    seed: NonNegativeInt
