"""Nodes of the evaluate pipeline: NSC/NSCB, mAP, k-NN, MLP classifiers, MI factors, epoch selection.

Every input is checked for non-finite features first (dropped with a count, or the run stops,
by ``evaluate.nonfinite``); a metric the data cannot support is reported as undefined (null) with
its reason, and the other metrics are still written."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cell_dino.evaluation.classifier import cross_validate
from cell_dino.evaluation.factors import factor_shares, mutual_information
from cell_dino.evaluation.figures import confusion_figure, umap_figure
from cell_dino.evaluation.scorecard import METRICS, finite_or_none, score, treated
from cell_dino.pipelines.evaluate.params import EvaluateParams
from cell_dino.profiling.finite import finite_profiles
from cell_dino.profiling.levels import treatment_profiles
from cell_dino.profiling.normalise import zscore
from cell_dino.reporting import peak_rss_mb
from cell_dino.undefined import attempt

log = logging.getLogger(__name__)
Partitions = dict[str, Callable[[], pd.DataFrame]]
HEADLINE = ("nsc", "nscb", "map_activity", "map_consistency", "knn_well", "macro_f1")


def _normalisations(profiles: Partitions) -> list[str]:
    return sorted({key.split("/")[0] for key in profiles if key.endswith("/well") and f"{key.split('/')[0]}/treatment" in profiles})


def _scored(wells: pd.DataFrame, treatments: pd.DataFrame, params: EvaluateParams, what: str) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """The scorecard of well and treatment profiles as one row; non-finite rows and features are
    dropped first (a feature dropped at one level is dropped at both)."""
    wells, dropped = finite_profiles(wells, params.nonfinite, f"{what} well profiles")
    treatments, _ = finite_profiles(treatments, params.nonfinite, f"{what} treatment profiles")
    treatments = treatments[[c for c in treatments.columns if c in wells.columns]]
    wells = wells[[c for c in wells.columns if c in treatments.columns or c.startswith("Metadata_")]]
    card = score(wells, treatments, params.scoring)
    row = {**card.summary, "undefined": json.dumps(card.undefined), "nonfinite_rows_dropped": dropped.get("n_rows_dropped", 0),
           "nonfinite_features_dropped": dropped.get("n_features_dropped", 0)}  # fmt: skip
    return row, card.matches, card.maps


def score_profiles(profiles: Partitions, params: EvaluateParams) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per normalisation: NSC, NSCB, well k-NN, mAP of activity and consistency (undefined: NaN,
    reason in ``undefined``). Returns the summary (one row per normalisation), the per-treatment
    matches and the per-group mAP."""
    rows, matches, maps = [], [], []
    for method in _normalisations(profiles):
        row, match, scores = _scored(profiles[f"{method}/well"](), profiles[f"{method}/treatment"](), params, method)
        rows.append({"normalisation": method, **row})
        matches.append(match.assign(normalisation=method))
        maps.append(scores.assign(normalisation=method))
        log.info("%s: %s", method, {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
    return pd.DataFrame(rows), pd.concat(matches, ignore_index=True), pd.concat(maps, ignore_index=True)


def _treated_items(embeddings: pd.DataFrame, params: EvaluateParams) -> pd.DataFrame:
    items, _ = finite_profiles(embeddings, params.nonfinite, "embeddings")
    items = treated(items, params.scoring.label)
    if len(items) > params.classifier_max_items:
        rng = np.random.default_rng(params.seed)
        items = items.iloc[np.sort(rng.choice(len(items), params.classifier_max_items, replace=False))].reset_index(drop=True)
    return items.drop(columns=["Metadata_Index", "Metadata_Count"], errors="ignore")


def classify_items(embeddings: pd.DataFrame, params: EvaluateParams) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """MLP on treated single items, splits grouped by compound: predictions, confusion, macro-F1."""
    undefined: dict[str, str] = {}
    items = _treated_items(embeddings, params)
    result = attempt("macro_f1", lambda: cross_validate(items, params.scoring.label, params.scoring.group, params.classifier), undefined)
    if result is None:
        return pd.DataFrame(), pd.DataFrame(), {"macro_f1": None, "classes": [], "n_items": len(items), "undefined": undefined}
    confusion = result.confusion if result.confusion is not None else pd.DataFrame()
    return result.predictions, confusion, {"macro_f1": result.macro_f1, "classes": result.classes, "n_items": len(result.predictions), "undefined": {}}


def analyse_factors(embeddings: pd.DataFrame, params: EvaluateParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mutual information of each feature with each factor, and the share of features per factor."""
    factors = [f for f in params.factors if f in embeddings.columns]
    information = mutual_information(_treated_items(embeddings, params), factors, params.factor_bins)
    return information.reset_index(), factor_shares(information)


def select_epoch(epoch_profiles: pd.DataFrame, params: EvaluateParams) -> tuple[pd.DataFrame, dict]:
    """Per checkpoint: replicate-retrieval mAP against controls (the selection criterion: it
    uses treatment identity and controls, never the MoA labels) and the test figures NSC / NSCB.
    Returns the table and the chosen epoch beside the best-on-test one (labelled as such)."""
    if epoch_profiles.empty:
        return pd.DataFrame(), {}
    rows = []
    for epoch, wells in epoch_profiles.groupby("Metadata_Epoch"):
        wells, _ = finite_profiles(wells.drop(columns=["Metadata_Epoch", "Metadata_Count"], errors="ignore").reset_index(drop=True),
                                   params.nonfinite, f"epoch {epoch} well profiles")  # fmt: skip
        wells = zscore(wells)
        row, _, _ = _scored(wells, treatment_profiles(wells), params, f"epoch {epoch} z-scored")
        rows.append({"epoch": int(epoch), **{k: row[k] for k in ("map_activity", "nsc", "nscb", "undefined")}})
    table = pd.DataFrame(rows)
    selection = {"criterion": "map_activity (replicate retrieval against controls; no MoA labels)"}
    if table["map_activity"].notna().any():
        chosen = table.loc[table["map_activity"].idxmax()]
        selection |= {"selected_epoch": int(chosen["epoch"]), "selected_nsc": finite_or_none(float(chosen["nsc"])),
                      "selected_nscb": finite_or_none(float(chosen["nscb"]))}  # fmt: skip
    else:
        selection["undefined"] = f"map_activity is undefined at every epoch: {json.loads(table['undefined'].iloc[-1]).get('map_activity')}"
    if table["nsc"].notna().any():
        best = table.loc[table["nsc"].idxmax()]
        selection |= {"best_on_test_epoch (optimistic)": int(best["epoch"]), "best_on_test_nsc (optimistic)": float(best["nsc"])}
    return table, selection


def draw_figures(umap: pd.DataFrame, confusion: pd.DataFrame) -> tuple[go.Figure, go.Figure]:
    """UMAP coloured by MoA and the MLP's confusion matrix (each an empty, titled figure when absent)."""
    if umap.empty:
        umap_plot = go.Figure().update_layout(title="no UMAP: see the integrate report's undefined reasons")
    else:
        umap_plot = umap_figure(umap, "Metadata_MoA", "UMAP of items (fitted on FOV means)")
    if confusion.empty:
        return umap_plot, go.Figure().update_layout(title="no MLP confusion: see the classifier's undefined reason")
    return umap_plot, confusion_figure(confusion, "MLP confusion (grouped by compound)")


def summarise_model(summary: pd.DataFrame, classifier: dict, shares: pd.DataFrame, params: EvaluateParams, selection: dict) -> dict:
    """One model's headline figures: the ``headline_normalisation`` row, macro-F1, epoch choice;
    undefined metrics are null, with their reasons under ``undefined``."""
    records = [_record(row) for row in summary.to_dict(orient="records")]
    by_method = {r["normalisation"]: r for r in records}
    method = params.headline_normalisation if params.headline_normalisation in by_method else next(iter(by_method), None)
    headline = by_method.get(method, {"undefined": {m: "no normalisation was integrated" for m in METRICS}})
    undefined = {**headline["undefined"], **classifier.get("undefined", {})}
    return {"headline_normalisation": method, **{k: v for k, v in headline.items() if k != "undefined"}, "macro_f1": classifier["macro_f1"],
            "undefined": undefined, "by_normalisation": records, "epoch_selection": selection,
            "factor_shares": dict(zip(shares["factor"], shares["share"], strict=True))}  # fmt: skip


def _record(row: dict) -> dict:
    """A metrics-table row for JSON: NaN -> null, the undefined reasons as a dict."""
    return {k: json.loads(v) if k == "undefined" else finite_or_none(v) for k, v in row.items()}


def report_evaluation(*summaries: dict, models: tuple[str, ...]) -> tuple[dict, go.Figure]:
    """``08_reporting/evaluate.json``: every model side by side, and the MI factor bars."""
    from cell_dino.evaluation.figures import factor_figure

    by_model = dict(zip(models, summaries, strict=True))
    shares = pd.DataFrame([{"model": m, "factor": f, "share": s} for m, summary in by_model.items() for f, s in summary["factor_shares"].items()])
    headline = {m: {k: s.get(k) for k in HEADLINE} for m, s in by_model.items()}
    report = {"n_inputs": len(models), "n_outputs": len(models), "peak_rss_mb": peak_rss_mb(), "headline": headline, "models": by_model}
    return report, factor_figure(shares, "Which factor each feature is most informative about")

