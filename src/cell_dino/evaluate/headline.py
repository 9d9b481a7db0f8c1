"""One model's headline figures, and every model side by side (``08_reporting/evaluate.json``):
undefined metrics are null, with their reasons under ``undefined``."""

from __future__ import annotations

import json

import pandas as pd

from cell_dino.core.reporting import run_report
from cell_dino.evaluate.scorecard import METRICS, finite_or_none

HEADLINE = ("nsc", "nscb", "map_activity", "map_consistency", "knn_well", "macro_f1")
LAYER = "@"  # between a model's name and its layer's in the headline and the ladder: dino@block2


def record(row: dict) -> dict:
    """A metrics-table row for JSON: NaN -> null, the undefined reasons as a dict."""
    return {k: json.loads(v) if k == "undefined" else finite_or_none(v) for k, v in row.items()}


def normalisation_row(records: list[dict], normalisation: str, why_missing: str) -> dict:
    """The record (:func:`record`) of ``normalisation`` among a metrics table's ``records``, or every
    metric null with ``why_missing`` when it was not made (never another normalisation's figures)."""
    made = {r["normalisation"]: r for r in records}
    return made.get(normalisation, {**dict.fromkeys(METRICS), "undefined": dict.fromkeys(METRICS, why_missing)})


def model_of(name: str) -> str:
    """The model a headline or ladder name belongs to (itself, or the model of a layer: ``dino@block2``)."""
    return name.split(LAYER, 1)[0]


def model_summary(
    metrics: pd.DataFrame,
    classifier: dict,
    shares: pd.DataFrame,
    headline_normalisation: str,
    selection: dict,
    factors_undefined: dict | None = None,
) -> dict:
    """The ``headline_normalisation`` row (undefined, never another normalisation's figures, when
    it was not made), macro-F1, every normalisation, the epoch selection and the MI factor shares
    of one model; ``undefined``: why each missing figure is missing (``factors_undefined``: the
    factor analysis's)."""
    records = [record(row) for row in metrics.to_dict(orient="records")]
    missing = f"normalisation {headline_normalisation} was not made (the integrate report's undefined gives why)"
    headline = normalisation_row(records, headline_normalisation, missing)
    return {
        "headline_normalisation": headline_normalisation,
        **{k: v for k, v in headline.items() if k != "undefined"},
        "macro_f1": classifier["macro_f1"],
        "undefined": {**headline["undefined"], **classifier.get("undefined", {}), **(factors_undefined or {})},
        "by_normalisation": records,
        "epoch_selection": selection,
        "factor_shares": dict(zip(shares["factor"], shares["share"], strict=True)),
    }


def models_report(summaries: dict[str, dict]) -> tuple[dict, pd.DataFrame]:
    """Every model's summary and headline side by side (after a model scored per layer, each layer as
    ``<model>@<layer>``), and the factor shares as one long table (``model``, ``factor``, ``share``)."""
    shares = pd.DataFrame(
        [{"model": m, "factor": f, "share": s} for m, summary in summaries.items() for f, s in summary["factor_shares"].items()]
    )
    clashing = [m for m in summaries if LAYER in m]
    if clashing:
        raise ValueError(f"model name(s) {clashing} contain {LAYER!r}, which names a model's layer (dino{LAYER}block2)")
    headline = {}
    for m, s in summaries.items():
        headline[m] = {k: s.get(k) for k in HEADLINE}
        headline |= {f"{m}{LAYER}{layer}": {k: figures.get(k) for k in HEADLINE} for layer, figures in s.get("layers", {}).items()}
    return run_report(len(summaries), len(summaries), headline=headline, models=summaries), shares
