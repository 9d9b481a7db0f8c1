"""Integration of a model's item embeddings into profiles: items (non-finite ones dropped or
refused) -> FOV -> well -> treatment, under every requested normalisation; a normalisation the
wells cannot support is skipped with its reason, the others are made."""

from __future__ import annotations

import logging
import time
from typing import Protocol

import pandas as pd

from cell_dino.core.undefined import attempt, require
from cell_dino.integrate.aggregate import Statistic
from cell_dino.integrate.finite import NonFinitePolicy, finite_profiles
from cell_dino.integrate.levels import SCREEN, Levels, fov_profiles, treatment_profiles, well_profiles
from cell_dino.integrate.normalise import Method, NormalisationLevel, NormalisationSettings, normalised

log = logging.getLogger(__name__)


class IntegrationSettings(Protocol):
    """How items become profiles (the integrate pipeline's parameters have these fields)."""

    levels: Levels  # the grouping keys of the FOV, well and treatment levels
    nonfinite: NonFinitePolicy
    fov_statistic: Statistic  # of items per field
    well_statistic: Statistic  # of fields per well
    treatment_statistic: Statistic  # of wells per treatment
    normalisations: list[Method]
    normalise_level: NormalisationLevel
    normalise: NormalisationSettings
    seed: int


def integrate(items: pd.DataFrame, settings: IntegrationSettings) -> tuple[dict[str, pd.DataFrame], dict]:
    """Profiles keyed ``fov``, ``<method>/well`` and ``<method>/treatment`` for every method of
    ``settings.normalisations``, and a record: ``n_items``, ``nonfinite`` (what was dropped),
    ``undefined`` (method -> why it was skipped), ``seconds``. ``settings.normalise_level``: each
    normalisation is fitted on and applied to well profiles (``well``), or to FOV profiles before
    the well means (``fov``: WS-DINO's TVN on the DMSO images)."""
    s, started = settings, time.perf_counter()
    finite, dropped = finite_profiles(items, s.nonfinite, "embeddings")
    fovs = fov_profiles(finite, s.fov_statistic, s.levels.fov)
    profiles, undefined = {"fov": fovs}, {}
    for method in s.normalisations:
        made = attempt(
            method, lambda m=method: normalised_wells(fovs, m, s.normalise, s.well_statistic, s.normalise_level, s.seed, s.levels.well), undefined
        )
        if made is not None:
            profiles |= {f"{method}/well": made, f"{method}/treatment": treatment_profiles(made, s.treatment_statistic, s.levels.treatment)}
    seconds = time.perf_counter() - started
    log.info("integrated %d items -> %d FOVs in %.1f s", len(finite), len(fovs), seconds)
    return profiles, {"n_items": len(items), "nonfinite": dropped, "undefined": undefined, "seconds": seconds}


def normalised_wells(
    fovs: pd.DataFrame,
    method: Method,
    settings: NormalisationSettings,
    well_statistic: Statistic,
    level: NormalisationLevel,
    seed: int = 0,
    keys: tuple[str, ...] = SCREEN.well,
) -> pd.DataFrame:
    """Well profiles (the ``well_statistic`` of their ``fovs`` grouped by ``keys``) under ``method``, fitted on the
    wells (``level: well``) or on the FOV profiles before aggregation (``level: fov``). Raises
    :class:`~cell_dino.core.undefined.Undefined` when the profiles cannot support the method (or there are none)."""
    require(len(fovs) > 0, f"{method} needs FOV profiles; the embeddings have no items")
    if level == "fov":
        return well_profiles(normalised(fovs, method, settings, seed), well_statistic, keys)
    return normalised(well_profiles(fovs, well_statistic, keys), method, settings, seed)
