"""Resuming is never silently wrong: ``resume: never`` clears an older run of either layout; a
truncated or foreign last checkpoint is named and the one before it used; checkpoints of other data
are retrained, not resumed; gradient clipping 0 means off."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from cell_dino.train.checkpoint import CheckpointError, checkpoints_in, load_checkpoint
from cell_dino.train.optimiser import clip_gradients
from cell_dino.train.trainer import train
from cell_dino.train.training_job import CheckpointSeries, TrainingJob
from tests.train.tiny_training import CONFIG, DATA


def _config(**runtime) -> object:
    return dataclasses.replace(
        CONFIG, optim=dataclasses.replace(CONFIG.optim, epochs=2), runtime=dataclasses.replace(CONFIG.runtime, **runtime)
    )


def test_resume_never_over_an_older_run_clears_its_checkpoints(tmp_path: Path) -> None:
    """The old run's epoch 2 checkpoint was left beside a new 2-epoch run, and the report showed it."""
    train(DATA, dataclasses.replace(CONFIG, runtime=dataclasses.replace(CONFIG.runtime, seed=7)), tmp_path)  # 3 epochs, seed 7
    assert len(checkpoints_in(tmp_path)) == 3
    last = train(DATA, _config(resume="never"), tmp_path)
    assert [p.name for p in checkpoints_in(tmp_path)] == ["checkpoint-epoch0000.pt", "checkpoint-epoch0001.pt"]
    assert load_checkpoint(last)["meta"]["config"]["runtime"]["seed"] == CONFIG.runtime.seed


def test_a_truncated_last_checkpoint_is_named_and_the_previous_one_resumed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """It stopped resume with a zip error naming only the folder."""
    train(DATA, _config(), tmp_path)
    last = checkpoints_in(tmp_path)[-1]
    last.write_bytes(last.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=r"checkpoint-epoch0001\.pt: unreadable checkpoint, truncated"):
        load_checkpoint(last)
    train(DATA, _config(), tmp_path)  # resumes from epoch 0 and redoes epoch 1
    assert "checkpoint-epoch0001.pt: unreadable checkpoint" in caplog.text and "resumed from" in caplog.text
    assert [p.name for p in checkpoints_in(tmp_path)] == ["checkpoint-epoch0000.pt", "checkpoint-epoch0001.pt"]
    assert load_checkpoint(checkpoints_in(tmp_path)[-1])["epoch"] == 1 and (tmp_path / "checkpoint-epoch0001.pt.unreadable").is_file()


def test_a_checkpoint_that_is_not_a_checkpoint_is_set_aside_and_the_previous_one_resumed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file of other bytes stopped resume with an UnpicklingError that named no file."""
    train(DATA, _config(), tmp_path)
    checkpoints_in(tmp_path)[-1].write_bytes(b"not a checkpoint at all" * 100)
    train(DATA, _config(), tmp_path)
    assert "checkpoint-epoch0001.pt: unreadable checkpoint" in caplog.text
    assert load_checkpoint(checkpoints_in(tmp_path)[-1])["epoch"] == 1


def test_checkpoints_of_other_data_are_retrained_not_resumed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Re-segmenting with other settings kept the channels, so the old model was resumed as complete."""
    train(dataclasses.replace(DATA, generation="store-a"), _config(), tmp_path)
    train(dataclasses.replace(DATA, generation="store-b"), _config(), tmp_path)
    again = load_checkpoint(checkpoints_in(tmp_path)[-1])
    assert "trained on other data (store store-a, now store-b): training afresh" in caplog.text
    assert again["meta"]["data_generation"] == "store-b" and len(again["history"]) == 2  # resumed, it kept store-a's epoch 1


def test_resume_never_replaces_a_per_channel_run_with_a_multichannel_one(tmp_path: Path) -> None:
    """``resume: never`` cleared only top-level checkpoints: the channel folders stayed and the
    series read the old per-channel models."""
    TrainingJob(DATA, _config(), "per_channel").run(tmp_path)
    assert CheckpointSeries(tmp_path).per_channel
    with pytest.raises(ValueError, match="holds a run of the other mode than mode: multichannel"):
        TrainingJob(DATA, _config(), "multichannel").run(tmp_path)
    TrainingJob(DATA, _config(resume="never"), "multichannel").run(tmp_path)
    series = CheckpointSeries(tmp_path)
    assert not series.per_channel and not list(tmp_path.glob("channel-*")) and series.meta().channels.names == tuple(DATA.channels.names)


@pytest.mark.parametrize("clip", [0, 0.0, None])
def test_clipping_off_leaves_gradients_as_they_are(clip: float | None) -> None:
    """``optim.clip_grad: 0`` zeroed every gradient; WS-DINO trains without clipping."""
    layer = torch.nn.Linear(4, 4)
    layer(torch.randn(8, 4)).pow(2).sum().backward()
    before = layer.weight.grad.clone()
    clip_gradients(layer, clip)
    torch.testing.assert_close(layer.weight.grad, before)
    clip_gradients(layer, 1e-3)
    assert layer.weight.grad.norm() <= 1e-3 + 1e-6


def test_another_weak_label_is_other_training_data_not_a_resume() -> None:
    """Changing weak_labels.label and re-running resumed the finished models trained on the old label, silently."""
    import numpy as np
    import pandas as pd

    from cell_dino.data.channels import ChannelSpec, ChannelStats
    from cell_dino.data.items import Items
    from cell_dino.train.training_data import training_data

    table = pd.DataFrame(
        {"Metadata_Compound": list("aabc"), "Metadata_Treatment": ["a@1", "a@3", "b@1", "c@1"], "Metadata_MoA": list("xxyy")}
    )
    stats = ChannelStats(["DNA"], [0.0], [1.0], [0.0], [0.0], [1.0], [1.0], 16)
    items = Items("fov", np.zeros((4, 1, 4, 4), np.float32), table, ChannelSpec(("DNA",)), stats, "store-a")
    compound = training_data(items, "Metadata_Compound", balanced=True).generation
    assert compound == training_data(items, "Metadata_Compound", balanced=True).generation
    assert compound != training_data(items, "Metadata_Treatment", balanced=True).generation
    assert compound != training_data(items, "Metadata_Compound", balanced=False).generation
    assert training_data(items).generation == "store-a"  # DINO: the store alone
