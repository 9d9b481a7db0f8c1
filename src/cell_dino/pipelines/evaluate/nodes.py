"""Nodes of the evaluate pipeline: NSC/NSCB, mAP, k-NN, MLP classifiers, MI factors, epoch selection.

Every input is checked for non-finite features first (dropped with a count, or the run stops,
by ``evaluate.nonfinite``); a metric the data cannot support is reported as undefined (null) with
its reason, and the other metrics are still written."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from cell_dino.core.undefined import attempt
from cell_dino.evaluate import epoch_selection
from cell_dino.evaluate.classifier import classify, label_accuracy, treated_sample
from cell_dino.evaluate.evaluation_figures import confusion_figure, factor_figure, umap_figure
from cell_dino.evaluate.factors import factor_shares, mutual_information
from cell_dino.evaluate.headline import model_summary, models_report
from cell_dino.evaluate.layers import score_layers
from cell_dino.evaluate.scorecard import score_normalisations
from cell_dino.integrate.integration import normalised_wells
from cell_dino.integrate.levels import treatment_profiles
from cell_dino.pipelines.evaluate.params import EvaluateParams
from cell_dino.pipelines.integrate.params import IntegrateParams

Partitions = dict[str, Callable[[], pd.DataFrame]]


def score_profiles(profiles: Partitions, params: EvaluateParams) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per normalisation: NSC, NSCB, well k-NN, mAP of activity and consistency (undefined: NaN,
    reason in ``undefined``); the per-treatment matches and the per-group mAP."""
    return score_normalisations(profiles, params.scoring, params.nonfinite)


def classify_items(embeddings: pd.DataFrame, params: EvaluateParams) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """MLP on treated single items (``classifier_label``, else the scoring label), splits grouped by
    compound: predictions, confusion, macro-F1 and each class's F1 (the record's ``nonfinite``: items and features dropped for NaN / inf first)."""
    label = params.classifier_label or params.scoring.label
    items, dropped = treated_sample(embeddings, label, params.classifier_max_items, params.seed, params.nonfinite)
    predictions, confusion, record = classify(items, label, params.scoring.group, params.classifier)
    return predictions, confusion, record | {"nonfinite": dropped}


def classify_other_labels(embeddings: pd.DataFrame, params: EvaluateParams) -> dict:
    """Each ``other_classifications`` task: grouped MLP accuracy and macro-F1 on its label, or why it is undefined."""
    tasks = {}
    for name, task in params.other_classifications.items():
        sample = task.label in embeddings  # else the classifier names the absent column as the reason
        items = (
            treated_sample(embeddings, task.label, params.classifier_max_items, params.seed, params.nonfinite)[0]
            if sample
            else embeddings.head(0)
        )
        tasks[name] = label_accuracy(items, task.label, task.group, params.classifier)
    return tasks


def analyse_factors(embeddings: pd.DataFrame, params: EvaluateParams) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Mutual information of each feature with each factor, the share of features per factor (both
    empty when undefined), and why they are undefined (``{}`` when made)."""
    items, _ = treated_sample(embeddings, params.scoring.label, params.classifier_max_items, params.seed, params.nonfinite)
    factors, undefined = [f for f in params.factors if f in embeddings.columns], {}
    information = attempt("factor_shares", lambda: mutual_information(items, factors, params.factor_bins), undefined)
    if information is None:
        return pd.DataFrame(columns=["feature", *factors]), pd.DataFrame(columns=["factor", "n_features", "share"]), undefined
    return information.reset_index(), factor_shares(information), undefined


def select_epoch(epoch_profiles: pd.DataFrame, params: EvaluateParams, integrate: IntegrateParams) -> tuple[pd.DataFrame, dict]:
    """Per checkpoint, on ``evaluate.epoch_normalisation`` profiles made as integrate makes them:
    replicate-retrieval mAP (the criterion: no MoA labels), NSC and NSCB; the chosen epoch beside
    the best-on-test ones (labelled optimistic) and the mean over the last ``epoch_window``."""
    if epoch_profiles.empty:
        return pd.DataFrame(), {}
    i = integrate

    def profiles_of(fovs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        wells = normalised_wells(fovs, params.epoch_normalisation, i.normalise, i.well_statistic, i.normalise_level, i.seed, i.levels.well)
        return wells, treatment_profiles(wells, i.treatment_statistic, i.levels.treatment)

    return epoch_selection.select_epoch(epoch_profiles, params.scoring, params.nonfinite, profiles_of, params.epoch_window)


def score_by_layer(embeddings: pd.DataFrame, params: EvaluateParams, integrate: IntegrateParams) -> dict:
    """Each layer of a model embedded at several blocks (``embed.features.layers``; the embedding's
    record names them), integrated as integrate does under the headline normalisation and scored
    alone: ``{layer: headline figures}`` (:func:`cell_dino.evaluate.layers.score_layers`); {} for one layer."""
    layers = embeddings.attrs.get("embedding", {}).get("layers", [])
    if len(layers) < 2:
        return {}
    settings = integrate.model_copy(update={"normalisations": [params.headline_normalisation]})
    return score_layers(embeddings, layers, settings, params.scoring, params.nonfinite, params.headline_normalisation)


def draw_figures(umap: pd.DataFrame, confusion: pd.DataFrame) -> tuple[go.Figure, go.Figure]:
    """UMAP coloured by MoA and the MLP's confusion matrix (titled empty figures when absent)."""
    no_umap = go.Figure().update_layout(title="no UMAP: see the integrate report's undefined reasons")
    no_confusion = go.Figure().update_layout(title="no MLP confusion: see the classifier's undefined reason")
    return (
        no_umap if umap.empty else umap_figure(umap, "Metadata_MoA", "UMAP of items (fitted on FOV means)"),
        no_confusion if confusion.empty else confusion_figure(confusion, "MLP confusion (grouped by compound)"),
    )


def summarise_model(
    metrics: pd.DataFrame,
    classifier: dict,
    other_classifiers: dict,
    shares: pd.DataFrame,
    factors_undefined: dict,
    layers: dict,
    params: EvaluateParams,
    selection: dict,
) -> dict:
    """One model's headline figures: the ``headline_normalisation`` row, macro-F1, the other
    classification tasks, epoch choice, and each layer's figures (``layers``: {} for one layer)."""
    return model_summary(metrics, classifier, shares, params.headline_normalisation, selection, factors_undefined) | {
        "other_classifications": other_classifiers,
        "layers": layers,
    }


def report_evaluation(*summaries: dict, models: tuple[str, ...]) -> tuple[dict, go.Figure]:
    """``08_reporting/evaluate.json``: every model side by side, and the MI factor bars."""
    report, shares = models_report(dict(zip(models, summaries, strict=True)))
    return report, factor_figure(shares, "Which factor each feature is most informative about")
