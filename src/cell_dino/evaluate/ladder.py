"""The model ladder: every model side by side on the headline metrics of ``evaluate.json`` (NSC,
NSCB, both mAPs, k-NN, macro-F1) and the Mantel r of its treatment similarities against the other
modality (``profile.json``; the phantom's true phenotypes). Baselines first (CellProfiler features,
ImageNet DINO per channel, random-init networks), then the learned models; missing or undefined figures are NaN. Over several
seeds: each figure's mean and standard deviation, and goals (one model beating another) on the means."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from cell_dino.evaluate.headline import HEADLINE, model_of
from cell_dino.registry import MODELS, TRAINING_RUNS, random_twin

COLUMNS = (*HEADLINE, "mantel_r")


def ladder_order(models: Iterable[str]) -> list[str]:
    """``models`` as the ladder shows them: measured features, random-init networks, trained
    networks, each in registry order, a model's layers (``<model>@<layer>``) after it in the order
    given; models the registry does not know last."""
    models = list(models)
    rank = {spec.name: (spec.trained, spec.learned, i) for i, spec in enumerate(MODELS)}
    seen = {base: len(rank) + i for i, base in enumerate(dict.fromkeys(model_of(m) for m in models))}  # unknown: as first given
    return sorted(models, key=lambda m: (*rank.get(model_of(m), (True, True, seen[model_of(m)])), m != model_of(m)))


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


def seeded_parameters(seed: int, budget: Mapping[str, dict] | None = None) -> dict:
    """Runtime parameters that make the chain's learned models depend on ``seed``: every training
    run's ``train.runtime.seed`` (initial weights, crops, item order; WS-DINO on cells takes DINO's)
    and embed's ``seed`` (the random-init twins' weights, the attention sample); with ``budget``
    (:func:`budget_parameters`) each run's training length too."""
    blocks = dict.fromkeys(run.parameters for run in TRAINING_RUNS)
    params: dict = {block: {"train": {"runtime": {"seed": seed}}} for block in blocks}
    for block, train in (budget or {}).items():
        params[block]["train"].update(train["train"])
    return {**params, "embed": {"seed": seed}}


def budget_parameters(parameters: Mapping[str, Mapping], epochs: int | None) -> dict:
    """Every training run's ``optim.epochs`` set to ``epochs`` (its warm-up capped at it, as
    ``OptimConfig`` requires), from the resolved ``parameters``; {} for None (as configured)."""
    if epochs is None:
        return {}
    blocks = dict.fromkeys(run.parameters for run in TRAINING_RUNS)
    budget = {}
    for block in blocks:
        warmup = parameters[block]["train"].get("optim", {}).get("warmup_epochs", 10)  # OptimConfig's default: DINO's 10
        budget[block] = {"train": {"optim": {"epochs": epochs, "warmup_epochs": min(warmup, epochs)}}}
    return budget


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


TIE = 1e-9  # means closer than this are equal: the same seeds' figures averaged in another order differ by ~1e-16


def goals_met(models: Mapping[str, Mapping[str, Mapping]], goals: Iterable[tuple[str, str, str]]) -> list[dict]:
    """Each goal ``(model, metric, baseline)``: does ``model``'s mean beat ``baseline``'s (by more
    than :data:`TIE`: a tie is not met)? One dict
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
                "met": None if difference is None else difference > TIE,
                "n": [mine.get("n", 0), theirs.get("n", 0)],
                "std": [mine.get("std"), theirs.get("std")],
            }
        )
    return judged


def ladder_points(ladder: pd.DataFrame) -> pd.DataFrame:
    """A ladder (:func:`model_ladder`, one seed) in long form for a chart: columns ``model``,
    ``metric``, ``mean`` (the figure), ``std`` (NaN: one seed), ``n``; undefined figures left out."""
    long = ladder.rename_axis("model").reset_index().melt(id_vars="model", var_name="metric", value_name="mean").dropna(subset=["mean"])
    return long.assign(std=float("nan"), n=1).reset_index(drop=True)


def seed_points(models: Mapping[str, Mapping[str, Mapping]]) -> pd.DataFrame:
    """:func:`over_seeds`' ``{model: {metric: {mean, std, n}}}`` in long form (columns ``model``,
    ``metric``, ``mean``, ``std``, ``n``; std NaN under two seeds), undefined means left out."""
    rows = [
        {"model": model, "metric": metric, "mean": s["mean"], "std": s["std"] if s["std"] is not None else float("nan"), "n": s["n"]}
        for model, metrics in models.items()
        for metric, s in metrics.items()
        if s["mean"] is not None
    ]
    return pd.DataFrame(rows, columns=["model", "metric", "mean", "std", "n"])


def curve_points(record: Mapping) -> pd.DataFrame:
    """The compute curve of a ``benchmarks/ladder.py`` record (``curve``: one :func:`over_seeds`
    result per training budget in epochs) in long form: :func:`seed_points`' columns and ``epochs``."""
    frames = [seed_points(models).assign(epochs=int(budget)) for budget, models in record["curve"].items()]
    return pd.concat(frames, ignore_index=True).sort_values(["epochs", "model"], kind="stable").reset_index(drop=True)


def curve_goals(curve: Mapping[str, Mapping[str, Mapping[str, Mapping]]], metrics: Iterable[str] = HEADLINE[:5]) -> list[dict]:
    """The compute curve's goals, from ``{budget: over_seeds(...)}`` (sorted by epochs):
    at every budget each trained model beats its random-init twin on every metric, WS-DINO on cells
    beats DINO on NSCB, and DINO against CellProfiler's NSC and NSCB (where it reaches them); across
    budgets each trained model's figures rise (the largest budget against the smallest). Each goal
    as :func:`goals_met` gives it, with its ``budget`` (``"<first>-><last>"`` for the rise)."""
    metrics = list(metrics)
    curve = dict(sorted(curve.items(), key=lambda item: float(item[0]) if item[0].isdigit() else float("inf")))
    judged = []
    for budget, models in curve.items():
        goals = [(m.name, metric, random_twin(m.name)) for m in MODELS if m.trained and m.name in models for metric in metrics]
        goals += [("wsdino_cells", "nscb", "dino"), ("dino", "nsc", "cellprofiler"), ("dino", "nscb", "cellprofiler")]
        judged += [{**goal, "budget": budget} for goal in goals_met(models, [g for g in goals if g[2] is not None])]
    budgets = list(curve)
    if len(budgets) > 1:
        first, last = curve[budgets[0]], curve[budgets[-1]]
        for m in MODELS:
            if m.trained and m.name in last:
                for metric in metrics:
                    joined = {f"{m.name}@{budgets[-1]}": last[m.name], f"{m.name}@{budgets[0]}": first.get(m.name, {})}
                    goal = goals_met(joined, [(f"{m.name}@{budgets[-1]}", metric, f"{m.name}@{budgets[0]}")])[0]
                    judged.append({**goal, "budget": f"{budgets[0]}->{budgets[-1]}"})
    return judged
