"""Training health: RankMe and feature spread against hand-computed cases, the collapse verdicts,
and a tiny run driven into collapse on purpose that must warn in the log and the report."""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path

import pytest
import torch

from cell_dino.train.health import HealthConfig, collapse, effective_rank, feature_spread, health_summary, prepare_probe, probe_rows
from cell_dino.train.loss import LossConfig
from cell_dino.train.trainer import train
from cell_dino.train.training_job import CheckpointSeries, run_summary
from tests.train.tiny_training import CONFIG, DATA

HEALTH = HealthConfig()


def test_effective_rank_is_exp_entropy_of_normalised_singular_values() -> None:
    features = torch.tensor([[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # singular values 3 and 1
    p = torch.tensor([0.75, 0.25]) + 1e-7
    assert effective_rank(features) == pytest.approx(math.exp(-(p * p.log()).sum().item()), rel=1e-6)  # 1.7548
    assert effective_rank(torch.ones(10, 5)) == pytest.approx(1.0, abs=1e-4)  # one direction
    assert effective_rank(torch.eye(6)) == pytest.approx(6.0, rel=1e-5)  # six equal directions
    assert math.isnan(effective_rank(torch.ones(1, 5))) and math.isnan(effective_rank(torch.zeros(4, 5)))
    assert math.isnan(effective_rank(torch.tensor([[1.0, float("nan")], [0.0, 1.0]])))  # not a crash mid-training


def test_feature_spread_is_one_for_spread_features_and_zero_for_one_point() -> None:
    torch.manual_seed(0)
    assert feature_spread(torch.randn(4000, 64)) == pytest.approx(1.0, abs=0.02)
    assert feature_spread(torch.ones(50, 64) * torch.arange(1, 51)[:, None]) == pytest.approx(0.0, abs=1e-9)  # one direction, any length


def test_collapse_verdicts() -> None:
    log_k = math.log(256)
    assert "uniform" in collapse(0.96 * log_k, 256, 50.0, HEALTH)
    assert collapse(0.90 * log_k, 256, 50.0, HEALTH) is None
    assert "one dimension" in collapse(0.01, 256, 1.5, HEALTH)
    assert "dimensional collapse" in collapse(2.0, 256, 3.0, HEALTH)
    assert collapse(2.0, 256, 4.5, HEALTH) is None
    assert collapse(2.0, 256, float("nan"), HEALTH) is None  # too few probe items: entropy alone
    assert "one point" in collapse(2.0, 256, float("nan"), HEALTH, spread=0.0)
    assert collapse(2.0, 256, 2.9, HEALTH, spread=0.5, n_probe=3) is None  # 3 items cannot show a rank of 4
    assert "dimensional" in collapse(2.0, 256, 2.9, HEALTH, spread=0.5, n_probe=256)
    assert collapse(0.0, 1, 5.0, HEALTH) is None  # one output: no entropy to judge


def test_probe_is_fixed_spread_and_prepared_like_the_global_crops() -> None:
    assert probe_rows(10, 4).tolist() == [0, 3, 6, 9]
    assert probe_rows(3, 256).tolist() == [0, 1, 2]
    fields = torch.arange(2 * 1 * 64 * 64, dtype=torch.float32).view(2, 1, 64, 64)
    centre = prepare_probe(fields, 16, "none", None)
    assert centre.shape == (2, 1, 16, 16) and centre[0, 0, 0, 0] == 24 * 64 + 24  # the centre 16 x 16 of a 64 x 64 field
    cells = prepare_probe(torch.rand(3, 2, 20, 20) * 100, 16, "self", None)
    assert cells.shape == (3, 2, 16, 16)
    stats = (torch.tensor([1.0, 2.0]), torch.tensor([2.0, 4.0]))
    assert prepare_probe(torch.full((1, 2, 16, 16), 5.0), 16, "dataset", stats)[0, :, 0, 0].tolist() == [2.0, 0.75]


def test_a_run_driven_into_uniform_collapse_warns_in_the_log_and_the_report(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hot = dataclasses.replace(CONFIG, loss=LossConfig(teacher_temp=2.0, warmup_teacher_temp=2.0))  # centring with no sharpening
    with caplog.at_level(logging.WARNING, logger="cell_dino.train.trainer"):
        train(DATA, hot, tmp_path / "hot")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == CONFIG.optim.epochs and all("collapse to the uniform distribution" in w for w in warnings)
    report = run_summary(CheckpointSeries(tmp_path / "hot"))
    assert report["collapsed"] is True and report["health"]["epochs_collapsed"] == [0, 1, 2]
    assert report["health"]["teacher_entropy"] / report["health"]["log_out_dim"] > 0.95


def test_a_run_with_dinos_temperatures_is_not_flagged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="cell_dino.train.trainer"):
        train(DATA, CONFIG, tmp_path / "run")
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    history = CheckpointSeries(tmp_path / "run").latest()["history"]
    assert [h["collapse"] for h in history] == [None] * CONFIG.optim.epochs
    assert all(h["effective_rank"] > HEALTH.min_rank and h["teacher_entropy"] < 0.95 * h["log_out_dim"] for h in history)
    assert health_summary(history)["collapsed"] is False


def test_histories_from_before_the_monitors_are_not_judged() -> None:
    assert health_summary([{"epoch": 0, "loss": 1.0}])["collapsed"] is None
