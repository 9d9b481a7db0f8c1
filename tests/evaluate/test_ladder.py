"""The model ladder: evaluate's headline and profile's Mantel r side by side, baselines first; over
seeds, means and standard deviations, and goals judged on the means."""

from __future__ import annotations

import math

import pytest

from cell_dino.evaluate.ladder import (
    COLUMNS,
    budget_parameters,
    curve_goals,
    curve_points,
    goals_met,
    ladder_points,
    model_ladder,
    over_seeds,
    seeded_parameters,
)
from cell_dino.pipelines.embed.params import EmbedParams
from cell_dino.pipelines.train_dino.params import TrainingParams
from cell_dino.registry import random_twin
from tests.projects import parameters


def headline(nsc: float | None) -> dict:
    return {"nsc": nsc, "nscb": 0.5, "map_activity": 0.9, "map_consistency": 0.4, "knn_well": 0.6, "macro_f1": 0.3}


def test_ladder_orders_baselines_first_and_joins_mantel():
    models = {"dino": headline(0.7), "wsdino": headline(None), "dino_random": headline(0.6), "cellprofiler": headline(0.8)}
    evaluate = {"headline": {**models, "imagenet": headline(0.75), "wsdino_cells": dict.fromkeys(headline(0.7))}}
    profile = {"models": {"dino": {"modality": [{"mantel_r": 0.31}]}, "cellprofiler": {"modality": []}}}
    ladder = model_ladder(evaluate, profile)
    assert ladder.index.tolist() == ["cellprofiler", "imagenet", "dino_random", "dino", "wsdino"]  # wsdino_cells: nothing defined
    assert tuple(ladder.columns) == COLUMNS
    assert ladder.loc["dino", "nsc"] == 0.7 and ladder.loc["dino", "mantel_r"] == 0.31
    assert math.isnan(ladder.loc["wsdino", "nsc"])  # undefined stays undefined
    assert math.isnan(ladder.loc["cellprofiler", "mantel_r"]) and math.isnan(ladder.loc["dino_random", "mantel_r"])


def test_ladder_without_a_profile_report_has_no_mantel():
    ladder = model_ladder({"headline": {"dino": headline(0.7)}})
    assert ladder.loc["dino", "macro_f1"] == 0.3 and math.isnan(ladder.loc["dino", "mantel_r"])


def test_over_seeds_gives_mean_and_sample_std_of_defined_values():
    seeds = {
        0: model_ladder({"headline": {"dino": headline(0.6), "dino_random": headline(0.5)}}),
        1: model_ladder({"headline": {"dino": headline(0.8), "dino_random": headline(None)}}),
        2: model_ladder({"headline": {"dino": headline(0.7)}}),  # a model absent from one seed's report
    }
    models = over_seeds(seeds)
    assert list(models) == ["dino_random", "dino"]
    assert list(over_seeds({0: seeds[2], 1: seeds[0]})) == ["dino_random", "dino"]  # ladder order, whichever seed has which model
    nsc = models["dino"]["nsc"]
    assert nsc["mean"] == pytest.approx(0.7) and nsc["std"] == pytest.approx(0.1) and nsc["n"] == 3  # sd of 0.6, 0.8, 0.7 (ddof 1)
    assert nsc["values"] == pytest.approx([0.6, 0.8, 0.7])
    random = models["dino_random"]["nsc"]
    assert random == {"mean": 0.5, "std": None, "n": 1, "values": [0.5, None, None]}
    assert models["dino"]["mantel_r"] == {"mean": None, "std": None, "n": 0, "values": [None, None, None]}


def test_goals_are_judged_on_means_and_left_open_when_undefined():
    models = {"dino": {"nsc": {"mean": 0.7}, "nscb": {"mean": 0.4}}, "dino_random": {"nsc": {"mean": 0.5}, "nscb": {"mean": 0.45}}}
    goals = goals_met(models, [("dino", "nsc", "dino_random"), ("dino", "nscb", "dino_random"), ("wsdino_cells", "nscb", "dino")])
    assert [g["met"] for g in goals] == [True, False, None]
    assert goals[0]["n"] == [0, 0] and goals[0]["std"] == [None, None]  # the spread behind each side, as given
    assert goals[0]["goal"] == "dino nsc > dino_random" and goals[0]["difference"] == pytest.approx(0.2)
    assert goals[1]["difference"] == pytest.approx(-0.05) and goals[2]["difference"] is None


def test_over_seeds_refuses_no_seeds():
    with pytest.raises(ValueError, match="no ladders"):
        over_seeds({})


def test_seeded_parameters_are_valid_and_seed_every_learned_model():
    overrides = seeded_parameters(7)
    for block in ("train_dino", "train_wsdino"):
        assert parameters(block, TrainingParams, **overrides[block]).train.runtime.seed == 7
    assert parameters("embed", EmbedParams, **overrides["embed"]).seed == 7


def test_budget_parameters_set_every_runs_epochs_and_cap_its_warm_up():
    resolved = {"train_dino": {"train": {"optim": {"warmup_epochs": 1}}}, "train_wsdino": {"train": {"optim": {"warmup_epochs": 4}}}}
    overrides = seeded_parameters(3, budget_parameters(resolved, 2))
    for block, warmup in (("train_dino", 1), ("train_wsdino", 2)):
        optim = parameters(block, TrainingParams, **overrides[block]).train
        assert (optim.optim.epochs, optim.optim.warmup_epochs, optim.runtime.seed) == (2, warmup, 3)
    assert budget_parameters(resolved, None) == {}


def test_random_twins_come_from_the_runs_parameter_block():
    twins = [random_twin(m) for m in ("dino", "wsdino_cells", "wsdino", "dino_bag", "cellprofiler", "dino_random")]
    assert twins == ["dino_random", "dino_random", "wsdino_random", "dino_bag_random", None, None]  # the bag: its own architecture


def _seeds(values: dict[str, list[float]]) -> dict:
    return over_seeds({i: model_ladder({"headline": {m: headline(v[i]) for m, v in values.items()}}) for i in range(2)})


def test_ladder_points_and_the_compute_curve_in_long_form():
    points = ladder_points(model_ladder({"headline": {"dino": headline(0.7), "wsdino": headline(None)}}))
    assert set(points["model"]) == {"dino", "wsdino"} and len(points) == 11  # wsdino's NSC and both Mantel r undefined: left out
    assert points.query("model == 'dino' and metric == 'nsc'")["mean"].item() == 0.7 and points["std"].isna().all()
    record = {"curve": {"2": _seeds({"dino": [0.5, 0.7]}), "8": _seeds({"dino": [0.8, 0.8]})}}
    curve = curve_points(record)
    nsc = curve.query("metric == 'nsc'")
    assert nsc["epochs"].tolist() == [2, 8] and nsc["mean"].tolist() == pytest.approx([0.6, 0.8])
    assert nsc["std"].tolist()[0] == pytest.approx(math.sqrt(0.02)) and nsc["std"].tolist()[1] == 0.0


def test_curve_goals_per_budget_and_the_rise_across_budgets():
    curve = {
        "2": _seeds({"cellprofiler": [0.9, 0.9], "dino_random": [0.5, 0.5], "dino": [0.4, 0.6], "wsdino_cells": [0.6, 0.6]}),
        "8": _seeds({"cellprofiler": [0.9, 0.9], "dino_random": [0.5, 0.5], "dino": [0.7, 0.7], "wsdino_cells": [0.6, 0.6]}),
    }
    goals = {(g["goal"], g["budget"]): g for g in curve_goals(curve, metrics=["nsc"])}
    assert goals["dino nsc > dino_random", "2"]["met"] is False  # 0.5 is not above 0.5
    assert goals["dino nsc > dino_random", "8"]["difference"] == pytest.approx(0.2)
    assert goals["wsdino_cells nsc > dino_random", "8"]["met"] is True
    assert goals["dino nsc > cellprofiler", "8"]["met"] is False
    assert goals["wsdino_cells nscb > dino", "8"]["difference"] == 0.0  # always judged on NSCB, whatever the metrics
    assert goals["dino@8 nsc > dino@2", "2->8"]["difference"] == pytest.approx(0.2)
    assert goals["wsdino_cells@8 nsc > wsdino_cells@2", "2->8"]["met"] is False
    reversed_order = {(g["goal"], g["budget"]) for g in curve_goals(dict(reversed(curve.items())), metrics=["nsc"])}
    assert ("dino@8 nsc > dino@2", "2->8") in reversed_order  # budgets sorted by epochs, whatever order they were given


def test_a_tie_in_floating_point_is_not_a_goal_met() -> None:
    """Means equal but for rounding (0.1 + 0.2 against 0.3: a difference of 5.6e-17) tie: not met."""
    models = {"dino": {"nscb": {"mean": 0.1 + 0.2, "n": 3}}, "dino_random": {"nscb": {"mean": 0.3, "n": 3}}}
    (goal,) = goals_met(models, [("dino", "nscb", "dino_random")])
    assert goal["difference"] == pytest.approx(0.0) and goal["difference"] > 0 and goal["met"] is False


def test_layers_follow_their_model_in_the_ladder_and_a_model_name_cannot_look_like_a_layer() -> None:
    from cell_dino.evaluate.headline import models_report
    from cell_dino.evaluate.ladder import ladder_order

    order = ladder_order(["zeta", "dino@block1", "alpha@block1", "zeta@block1", "alpha", "dino", "alpha@block0", "cellprofiler"])
    assert order == ["cellprofiler", "dino", "dino@block1", "zeta", "zeta@block1", "alpha", "alpha@block1", "alpha@block0"]
    with pytest.raises(ValueError, match=r"model name\(s\) \['dino@block2'\] contain '@'"):
        models_report({"dino@block2": {"factor_shares": {}}})
