"""Every profile-level metric of one set of well and treatment profiles: NSC and NSCB (treatment
profiles), leave-compound-out k-NN of wells, and the mAPs of phenotypic activity (wells) and
consistency (treatments); and of every normalisation of a model. A metric that the data cannot
support is NaN, with its reason under ``undefined``; the others are still computed."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import Field

from cell_dino.core.config import Count, NonNegativeInt, settings
from cell_dino.core.undefined import attempt, needs
from cell_dino.evaluate.knn import knn_accuracy
from cell_dino.evaluate.nsc import BATCH, MatchingResult, moa_matching, treatment_batches
from cell_dino.evaluate.retrieval import phenotypic_activity, phenotypic_consistency
from cell_dino.integrate.finite import NonFinitePolicy, finite_profiles
from cell_dino.integrate.table import feature_matrix, group_values, partition, treated

log = logging.getLogger(__name__)
METRICS = ("nsc", "nscb", "knn_well", "map_activity", "fraction_active", "map_consistency", "fraction_consistent")


@settings
class ScoringSpec:
    """Which columns the metrics read, and their settings."""

    label: str = "Metadata_MoA"
    group: str = "Metadata_Compound"  # never a neighbour of itself (NSC, k-NN), never split (MLP)
    treatment: str = "Metadata_Treatment"
    knn_k: Count = 1
    map_null_size: Annotated[int, Field(ge=10)] = 10000  # permutations for the mAP p-values
    map_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.05  # FDR level of "active" / "consistent"
    seed: NonNegativeInt = 0


@dataclass
class Scorecard:
    """``summary``: metric -> value (NaN where undefined) with ``n_nsc``, ``n_nscb``;
    ``undefined``: metric -> reason; per-treatment ``matches`` and per-group ``maps``."""

    summary: dict[str, float]
    undefined: dict[str, str]
    matches: pd.DataFrame = field(default_factory=pd.DataFrame)
    maps: pd.DataFrame = field(default_factory=pd.DataFrame)


def well_knn(wells: pd.DataFrame, spec: ScoringSpec) -> float:
    """Leave-group-out k-NN label accuracy of treated well profiles."""
    needs(wells.columns, [spec.label, spec.group], "well k-NN")
    rows = treated(wells, spec.label)
    return knn_accuracy(
        feature_matrix(rows), rows[spec.label].astype(str).to_numpy(), group_values(rows, spec.group), spec.knn_k, spec.seed
    )


def _mean(table: pd.DataFrame | None, column: str) -> float:
    return float(table[column].astype(float).mean()) if table is not None else math.nan


def score(wells: pd.DataFrame, treatments: pd.DataFrame, spec: ScoringSpec) -> Scorecard:
    """All metrics of one normalisation's well and treatment profiles (finite features)."""
    undefined: dict[str, str] = {}
    batches = treatment_batches(wells, treatments, [spec.treatment]) if {BATCH, spec.treatment} <= set(wells.columns) else None
    matching = attempt("nsc", lambda: moa_matching(treatments, batches, spec.label, spec.group), undefined)
    if matching is None:
        undefined["nscb"] = undefined["nsc"]
        matching = MatchingResult(pd.DataFrame(), math.nan, math.nan, 0, 0)
    undefined |= matching.undefined
    knn = attempt("knn_well", lambda: well_knn(wells, spec), undefined)
    activity = attempt(
        "map_activity", lambda: phenotypic_activity(wells, spec.treatment, spec.map_null_size, spec.map_threshold, spec.seed), undefined
    )
    consistency = attempt(
        "map_consistency",
        lambda: phenotypic_consistency(treatments, spec.label, spec.group, spec.map_null_size, spec.map_threshold, spec.seed),
        undefined,
    )
    for pair in (("fraction_active", "map_activity"), ("fraction_consistent", "map_consistency")):
        if pair[1] in undefined:
            undefined[pair[0]] = undefined[pair[1]]
    summary = {
        **matching.summary(),
        "knn_well": math.nan if knn is None else knn,
        "map_activity": _mean(activity, "mean_average_precision"),
        "fraction_active": _mean(activity, "below_corrected_p"),
        "map_consistency": _mean(consistency, "mean_average_precision"),
        "fraction_consistent": _mean(consistency, "below_corrected_p"),
    }
    maps = [m.assign(kind=kind) for kind, m in (("activity", activity), ("consistency", consistency)) if m is not None]
    return Scorecard(summary, undefined, matching.table, pd.concat(maps, ignore_index=True) if maps else pd.DataFrame())


def finite_or_none(value: float) -> float | None:
    """A metric for JSON: NaN (undefined) becomes null."""
    return None if value is None or (isinstance(value, float) and not np.isfinite(value)) else value


def scored_row(
    wells: pd.DataFrame, treatments: pd.DataFrame, spec: ScoringSpec, nonfinite: NonFinitePolicy, what: str
) -> tuple[dict, Scorecard]:
    """The scorecard of well and treatment profiles as one table row (``undefined`` as JSON,
    non-finite rows and features dropped first, counted; a feature dropped at one level is dropped
    at both)."""
    wells, dropped = finite_profiles(wells, nonfinite, f"{what} well profiles")
    treatments, _ = finite_profiles(treatments, nonfinite, f"{what} treatment profiles")
    treatments = treatments[[c for c in treatments.columns if c in wells.columns]]
    wells = wells[[c for c in wells.columns if c in treatments.columns or c.startswith("Metadata_")]]
    card = score(wells, treatments, spec)
    row = {
        **card.summary,
        "undefined": json.dumps(card.undefined),
        "nonfinite_rows_dropped": dropped.get("n_rows_dropped", 0),
        "nonfinite_features_dropped": dropped.get("n_features_dropped", 0),
    }
    return row, card


def score_normalisations(
    profiles: dict[str, pd.DataFrame | Callable[[], pd.DataFrame]], spec: ScoringSpec, nonfinite: NonFinitePolicy
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per normalisation present in ``profiles`` (``<method>/well`` and ``<method>/treatment``
    tables or their loaders): the summary (one row each), the per-treatment matches and the per-group mAPs
    (each with only a ``normalisation`` column, and no rows, when no normalisation was made)."""
    rows, matches, maps = [], [], []
    methods = sorted(
        {k.removesuffix("/well") for k in profiles if k.endswith("/well") and f"{k.removesuffix('/well')}/treatment" in profiles}
    )
    for method in methods:
        row, card = scored_row(partition(profiles, f"{method}/well"), partition(profiles, f"{method}/treatment"), spec, nonfinite, method)
        rows.append({"normalisation": method, **row})
        matches.append(card.matches.assign(normalisation=method))
        maps.append(card.maps.assign(normalisation=method))
        log.info("%s: %s", method, {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
    if not rows:  # no normalisation was made (e.g. a model without items): empty tables
        return (pd.DataFrame(columns=["normalisation"]),) * 3
    return pd.DataFrame(rows), pd.concat(matches, ignore_index=True), pd.concat(maps, ignore_index=True)
