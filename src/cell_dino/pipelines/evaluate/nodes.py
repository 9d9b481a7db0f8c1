"""Nodes of the evaluate pipeline: NSC/NSCB, mAP, k-NN, MLP classifiers, MI factors, epoch selection."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cell_dino.evaluation.classifier import cross_validate
from cell_dino.evaluation.factors import factor_shares, mutual_information
from cell_dino.evaluation.figures import confusion_figure, umap_figure
from cell_dino.evaluation.knn import knn_accuracy
from cell_dino.evaluation.moa_matching import moa_matching, treatment_batches
from cell_dino.evaluation.retrieval import phenotypic_activity, phenotypic_consistency
from cell_dino.pipelines.evaluate.params import EvaluateParams
from cell_dino.profiling.levels import TREATMENT_KEYS, treatment_profiles
from cell_dino.profiling.normalise import zscore
from cell_dino.profiling.table import feature_matrix
from cell_dino.reporting import peak_rss_mb

log = logging.getLogger(__name__)


def _normalisations(profiles: dict[str, Callable[[], pd.DataFrame]]) -> list[str]:
    return sorted({key.split("/")[0] for key in profiles if key.endswith("/well")})


def _treated(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """Labelled, non-control rows."""
    keep = table[label].notna()
    if "Metadata_Control" in table.columns:
        keep &= ~table["Metadata_Control"].fillna(False).astype(bool)
    return table.loc[keep].reset_index(drop=True)


def well_knn(wells: pd.DataFrame, params: EvaluateParams) -> float:
    """Leave-group-out k-NN label accuracy of treated well profiles."""
    treated = _treated(wells, params.label)
    return knn_accuracy(feature_matrix(treated), treated[params.label].astype(str).to_numpy(),
                        treated[params.group].astype(str).to_numpy(), params.knn_k)  # fmt: skip


def score_profiles(profiles: dict[str, Callable[[], pd.DataFrame]], params: EvaluateParams) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per normalisation: NSC, NSCB, well k-NN, mAP of activity and consistency.

    Returns the summary (one row per normalisation), the per-treatment matches and the per-group mAP."""
    rows, matches, maps = [], [], []
    for method in _normalisations(profiles):
        wells, treatments = profiles[f"{method}/well"](), profiles[f"{method}/treatment"]()
        matching = moa_matching(treatments, treatment_batches(wells, treatments, TREATMENT_KEYS))
        common = {"normalisation": method}
        activity = phenotypic_activity(wells, null_size=params.map_null_size, threshold=params.map_threshold,
                                       seed=params.seed, batch_size=params.map_batch_size)  # fmt: skip
        consistency = phenotypic_consistency(treatments, params.label, params.group, null_size=params.map_null_size,
                                             threshold=params.map_threshold, seed=params.seed, batch_size=params.map_batch_size)  # fmt: skip
        rows.append({**common, **matching.summary(), "knn_well": well_knn(wells, params),
                     "map_activity": float(activity["mean_average_precision"].mean()),
                     "fraction_active": float(activity["below_corrected_p"].mean()),
                     "map_consistency": float(consistency["mean_average_precision"].mean()),
                     "fraction_consistent": float(consistency["below_corrected_p"].mean())})  # fmt: skip
        matches.append(matching.table.assign(**common))
        maps += [activity.assign(kind="activity", **common), consistency.assign(kind="consistency", **common)]
        log.info("%s: %s", method, {k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()})
    return pd.DataFrame(rows), pd.concat(matches, ignore_index=True), pd.concat(maps, ignore_index=True)


def _treated_items(embeddings: pd.DataFrame, params: EvaluateParams) -> pd.DataFrame:
    items = _treated(embeddings, params.label)
    if len(items) > params.classifier_max_items:
        rng = np.random.default_rng(params.seed)
        items = items.iloc[np.sort(rng.choice(len(items), params.classifier_max_items, replace=False))].reset_index(drop=True)
    return items.drop(columns=["Metadata_Index"], errors="ignore")


def classify_items(embeddings: pd.DataFrame, params: EvaluateParams) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """MLP on treated single items, splits grouped by compound: predictions, confusion, macro-F1."""
    result = cross_validate(_treated_items(embeddings, params), params.label, params.group, params.classifier)
    confusion = result.confusion if result.confusion is not None else pd.DataFrame()
    return result.predictions, confusion, {"macro_f1": result.macro_f1, "classes": result.classes, "n_items": len(result.predictions)}


def analyse_factors(embeddings: pd.DataFrame, params: EvaluateParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mutual information of each feature with each factor, and the share of features per factor."""
    factors = [f for f in params.factors if f in embeddings.columns]
    information = mutual_information(_treated_items(embeddings, params).drop(columns=["Metadata_Count"], errors="ignore"), factors, params.factor_bins)
    return information.reset_index(), factor_shares(information)


def select_epoch(epoch_profiles: pd.DataFrame, params: EvaluateParams) -> tuple[pd.DataFrame, dict]:
    """Per checkpoint: replicate-retrieval mAP against controls (the selection criterion: it
    uses treatment identity and controls, never the MoA labels) and the test figures NSC / NSCB.
    Returns the table and the chosen epoch beside the best-on-test one (labelled as such)."""
    if epoch_profiles.empty:
        return pd.DataFrame(), {}
    rows = []
    for epoch, wells in epoch_profiles.groupby("Metadata_Epoch"):
        wells = zscore(wells.drop(columns=["Metadata_Epoch", "Metadata_Count"], errors="ignore").reset_index(drop=True))
        treatments = treatment_profiles(wells)
        activity = phenotypic_activity(wells, null_size=params.map_null_size, seed=params.seed, batch_size=params.map_batch_size)
        matching = moa_matching(treatments, treatment_batches(wells, treatments, TREATMENT_KEYS))
        rows.append({"epoch": int(epoch), "map_activity": float(activity["mean_average_precision"].mean()), "nsc": matching.nsc, "nscb": matching.nscb})
    table = pd.DataFrame(rows)
    chosen = table.loc[table["map_activity"].idxmax()]
    best = table.loc[table["nsc"].idxmax()]
    return table, {"criterion": "map_activity (replicate retrieval against controls; no MoA labels)",
                   "selected_epoch": int(chosen["epoch"]), "selected_nsc": float(chosen["nsc"]), "selected_nscb": float(chosen["nscb"]),
                   "best_on_test_epoch (optimistic)": int(best["epoch"]), "best_on_test_nsc (optimistic)": float(best["nsc"])}  # fmt: skip


def draw_figures(umap: pd.DataFrame, confusion: pd.DataFrame) -> tuple[go.Figure, go.Figure]:
    """UMAP coloured by MoA and the MLP's confusion matrix."""
    return umap_figure(umap, "Metadata_MoA", "UMAP of items (fitted on FOV means)"), confusion_figure(confusion, "MLP confusion (grouped by compound)")


def summarise_model(summary: pd.DataFrame, classifier: dict, shares: pd.DataFrame, params: EvaluateParams, selection: dict) -> dict:
    """One model's headline figures: the ``headline_normalisation`` row, macro-F1, epoch choice."""
    by_method = summary.set_index("normalisation")
    method = params.headline_normalisation if params.headline_normalisation in by_method.index else by_method.index[0]
    return {"headline_normalisation": method, **by_method.loc[method].to_dict(), "macro_f1": classifier["macro_f1"],
            "by_normalisation": summary.to_dict(orient="records"), "epoch_selection": selection,
            "factor_shares": dict(zip(shares["factor"], shares["share"], strict=True))}  # fmt: skip


def report_evaluation(*summaries: dict, models: tuple[str, ...]) -> tuple[dict, go.Figure]:
    """``08_reporting/evaluate.json``: every model side by side, and the MI factor bars."""
    from cell_dino.evaluation.figures import factor_figure

    by_model = dict(zip(models, summaries, strict=True))
    shares = pd.DataFrame([{"model": m, "factor": f, "share": s} for m, summary in by_model.items() for f, s in summary["factor_shares"].items()])
    headline = {m: {k: s[k] for k in ("nsc", "nscb", "map_activity", "map_consistency", "knn_well", "macro_f1")} for m, s in by_model.items()}
    report = {"n_inputs": len(models), "n_outputs": len(models), "peak_rss_mb": peak_rss_mb(), "headline": headline, "models": by_model}
    return report, factor_figure(shares, "Which factor each feature is most informative about")
