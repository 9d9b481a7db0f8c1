"""The model ladder: evaluate's headline and profile's Mantel r side by side, baselines first."""

from __future__ import annotations

import math

from cell_dino.evaluation.ladder import COLUMNS, model_ladder


def headline(nsc: float | None) -> dict:
    return {"nsc": nsc, "nscb": 0.5, "map_activity": 0.9, "map_consistency": 0.4, "knn_well": 0.6, "macro_f1": 0.3}


def test_ladder_orders_baselines_first_and_joins_mantel():
    evaluate = {"headline": {"dino": headline(0.7), "wsdino": headline(None), "dino_random": headline(0.6), "cellprofiler": headline(0.8)}}
    profile = {"models": {"dino": {"modality": [{"mantel_r": 0.31}]}, "cellprofiler": {"modality": []}}}
    ladder = model_ladder(evaluate, profile)
    assert ladder.index.tolist() == ["cellprofiler", "dino_random", "dino", "wsdino"]
    assert tuple(ladder.columns) == COLUMNS
    assert ladder.loc["dino", "nsc"] == 0.7 and ladder.loc["dino", "mantel_r"] == 0.31
    assert math.isnan(ladder.loc["wsdino", "nsc"])  # undefined stays undefined
    assert math.isnan(ladder.loc["cellprofiler", "mantel_r"]) and math.isnan(ladder.loc["dino_random", "mantel_r"])


def test_ladder_without_a_profile_report_has_no_mantel():
    ladder = model_ladder({"headline": {"dino": headline(0.7)}})
    assert ladder.loc["dino", "macro_f1"] == 0.3 and math.isnan(ladder.loc["dino", "mantel_r"])
