"""The model ladder: every model side by side on the headline metrics of ``evaluate.json`` (NSC,
NSCB, both mAPs, k-NN, macro-F1) and the Mantel r of its treatment similarities against the other
modality (``profile.json``; the phantom's true phenotypes). Baselines first (CellProfiler features,
random-init networks), then the learned models; missing or undefined figures are NaN."""

from __future__ import annotations

import pandas as pd

from cell_dino.evaluation.summary import HEADLINE
from cell_dino.registry import MODELS

COLUMNS = (*HEADLINE, "mantel_r")


def model_ladder(evaluate_report: dict, profile_report: dict | None = None) -> pd.DataFrame:
    """One row per model of ``evaluate_report["headline"]`` (index ``model``), columns :data:`COLUMNS`
    (float; NaN where undefined or not made): measured features, random-init networks, trained
    networks, each in registry order; models the registry does not know last."""
    profiles = (profile_report or {}).get("models", {})
    rows = {}
    for name, headline in evaluate_report["headline"].items():
        modality = profiles.get(name, {}).get("modality") or [{}]
        rows[name] = {**{k: headline.get(k) for k in HEADLINE}, "mantel_r": modality[0].get("mantel_r")}
    rank = {spec.name: (spec.trained, spec.learned, i) for i, spec in enumerate(MODELS)}
    order = sorted(rows, key=lambda m: rank.get(m, (True, True, len(rank))))
    return pd.DataFrame.from_dict(rows, orient="index").loc[order].rename_axis("model").astype(float)
