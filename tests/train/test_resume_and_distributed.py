"""A run killed with SIGKILL mid-epoch and resumed ends where an uninterrupted run ends; two
gloo processes keep one model and one centre."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import torch

SCRIPT = Path(__file__).with_name("tiny_training.py")
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=ENV, capture_output=True, text=True)


def teacher_of(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(sorted(run_dir.glob("checkpoint-*.pt"))[-1], weights_only=True)["teacher"]


def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    straight = run(str(tmp_path / "straight"))
    assert straight.returncode == 0, straight.stderr[-2000:]
    killed = run(str(tmp_path / "killed"), "--kill-at", "9")  # 4 steps per epoch: mid epoch 2
    assert killed.returncode == -signal.SIGKILL
    assert [p.name for p in sorted((tmp_path / "killed").glob("*.pt"))] == ["checkpoint-epoch0000.pt", "checkpoint-epoch0001.pt"]
    resumed = run(str(tmp_path / "killed"))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    expected, got = teacher_of(tmp_path / "straight"), teacher_of(tmp_path / "killed")
    assert expected.keys() == got.keys()
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=1e-4, atol=1e-5)
    assert not torch.equal(expected["backbone.cls_token"], torch.zeros_like(expected["backbone.cls_token"]))


def test_two_gloo_processes_share_model_and_centre(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29531",
        str(SCRIPT),
        str(tmp_path),
        "--dump-teacher",
    ]
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert ranks[0]["world_size"] == ranks[1]["world_size"] == 2
    torch.testing.assert_close(ranks[0]["center"], ranks[1]["center"])
    assert ranks[0]["center"].abs().sum() > 0
