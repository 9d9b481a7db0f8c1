"""The model ladder: every model side by side on the headline metrics of ``evaluate.json`` (NSC,
NSCB, both mAPs, k-NN, macro-F1) and the Mantel r of its treatment similarities against the other
modality (``profile.json``; the phantom's true phenotypes). Baselines first (CellProfiler features,
ImageNet DINO per channel, random-init networks), then the learned models; missing or undefined figures are NaN. Over several
seeds: each figure's mean and standard deviation, and goals (one model beating another) on the means."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from cell_dino.evaluation.summary import HEADLINE
from cell_dino.registry import MODELS

COLUMNS = (*HEADLINE, "mantel_r")


def ladder_order(models: Iterable[str]) -> list[str]:
    """``models`` as the ladder shows them: measured features, random-init networks, trained
    networks, each in registry order; models the registry does not know last."""
    rank = {spec.name: (spec.trained, spec.learned, i) for i, spec in enumerate(MODELS)}
    return sorted(models, key=lambda m: rank.get(m, (True, True, len(rank))))


def model_ladder(evaluate_report: dict, profile_report: dict | None = None) -> pd.DataFrame:
    """One row per model of ``evaluate_report["headline"]`` (index ``model``), columns :data:`COLUMNS`
    (float; NaN where undefined or not made): measured features, random-init networks, trained
    networks, each in registry order; models the registry does not know last. A model without a
    single defined figure (the ImageNet baseline skipped for want of its weights file) is left out."""
    profiles = (profile_report or {}).get("models", {})
    rows = {}
    for name, headline in evaluate_report["headline"].items():
        modality = profiles.get(name, {}).get("modality") or [{}]
        rows[name] = {**{k: headline.get(k) for k in HEADLINE}, "mantel_r": modality[0].get("mantel_r")}
    order = ladder_order(rows)
    ladder = pd.DataFrame.from_dict(rows, orient="index").loc[order].rename_axis("model").astype(float)
    return ladder.dropna(how="all")


def seeded_parameters(seed: int) -> dict:
    """Runtime parameters that make the chain's learned models depend on ``seed``: every training
    run's ``train.runtime.seed`` (initial weights, crops, item order; WS-DINO on cells takes DINO's)
    and embed's ``seed`` (the random-init twins' weights, the attention sample)."""
    train = {"train": {"runtime": {"seed": seed}}}
    return {"train_dino": train, "train_wsdino": train, "embed": {"seed": seed}}


def over_seeds(ladders: Mapping[int, pd.DataFrame]) -> dict[str, dict[str, dict]]:
    """``{model: {metric: {mean, std, n, values}}}`` over the ladders of several seeds (each as
    :func:`model_ladder` makes it), models in ladder order: ``std`` with ddof 1 (None under two
    defined values), ``n`` the seeds where the figure is defined, ``values`` in seed order (None where
    undefined or absent). Raises ValueError without ladders."""
    if not ladders:
        raise ValueError("over_seeds: no ladders (no seed ran)")
    table = pd.concat(dict(ladders), names=["seed", "model"])
    names = ladder_order(dict.fromkeys(table.index.get_level_values("model")))
    models: dict[str, dict[str, dict]] = {}
    for model in names:
        rows = table.xs(model, level="model").reindex(list(ladders))
        models[model] = {}
        for metric in table.columns:
            values = rows[metric].to_numpy(dtype=float)
            defined = values[np.isfinite(values)]
            models[model][metric] = {
                "mean": float(defined.mean()) if len(defined) else None,
                "std": float(defined.std(ddof=1)) if len(defined) > 1 else None,
                "n": len(defined),
                "values": [float(v) if np.isfinite(v) else None for v in values],
            }
    return models


def goals_met(models: Mapping[str, Mapping[str, Mapping]], goals: Iterable[tuple[str, str, str]]) -> list[dict]:
    """Each goal ``(model, metric, baseline)``: does ``model``'s mean beat ``baseline``'s? One dict
    per goal: ``goal`` (its text), ``difference`` (model - baseline), ``met`` (both None when either
    mean is undefined or absent: a goal that cannot be judged is not reported as missed), and each
    side's ``n`` and ``std``, so a difference can be read against the spread and the seeds behind it."""
    judged = []
    for model, metric, baseline in goals:
        mine, theirs = (models.get(m, {}).get(metric, {}) for m in (model, baseline))
        difference = None if mine.get("mean") is None or theirs.get("mean") is None else mine["mean"] - theirs["mean"]
        judged.append(
            {
                "goal": f"{model} {metric} > {baseline}",
                "difference": difference,
                "met": None if difference is None else difference > 0,
                "n": [mine.get("n", 0), theirs.get("n", 0)],
                "std": [mine.get("std"), theirs.get("std")],
            }
        )
    return judged
