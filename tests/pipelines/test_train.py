"""``kedro run -e test --pipeline train_dino`` / ``train_wsdino`` (WS-DINO on fields and on cells)
after ingest and segment, and bad configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from cell_dino.pipelines.train_dino.nodes import with_weak_labels
from cell_dino.pipelines.train_dino.params import TrainingParams
from cell_dino.train.checkpoint import checkpoints_in
from tests.pipelines.conftest import run_pipeline
from tests.projects import parameters


def test_train_dino_and_wsdino_write_checkpoints_with_channel_spec(segmented: Path) -> None:
    run_pipeline(segmented, "train_dino")
    run_pipeline(segmented, "train_wsdino")
    for name, unit in (("dino", "cell"), ("wsdino", "fov"), ("wsdino_cells", "cell")):
        paths = checkpoints_in(segmented / f"data/test/06_models/{name}")
        assert [p.name for p in paths] == ["checkpoint-epoch0000.pt", "checkpoint-epoch0001.pt"]
        state = torch.load(paths[-1], weights_only=True)
        assert state["meta"]["channels"] == ["DNA", "Tubulin", "Actin"] and state["meta"]["unit"] == unit
        assert len(state["meta"]["stats"]["mean"]) == 3 and state["meta"]["patch_size"] == 8
        metrics = pd.read_parquet(segmented / f"data/test/08_reporting/train_{name}_metrics.parquet")
        assert metrics["epoch"].tolist() == [0, 1] and (metrics["teacher_entropy"] > 0).all()
    report = json.loads((segmented / "data/test/08_reporting/train_wsdino.json").read_text())
    assert report["weak_label"] == "Metadata_Compound" and report["n_weak_labels"] == 10
    cells = json.loads((segmented / "data/test/08_reporting/train_wsdino_cells.json").read_text())
    assert cells["weak_label"] == "Metadata_Compound" and cells["n_weak_labels"] == 10
    record = json.loads((segmented / "data/test/08_reporting/runs/train_wsdino.json").read_text())
    assert sorted(record["parameters"]) == ["train_dino", "train_wsdino"]  # both runs' parameters are recorded
    assert record["parameters"]["train_wsdino"]["unit"] == "fov" and record["parameters"]["train_dino"]["unit"] == "cell"


def test_wsdino_on_cells_differs_from_dino_in_the_weak_label_alone(segmented: Path) -> None:
    """Same items, settings and seed (so the same initial weights); only the local crops' source differs."""
    run_pipeline(segmented, "train_dino", params={"train_dino": {"train": {"optim": {"epochs": 1}}}})
    run_pipeline(segmented, "train_wsdino", params={"train_dino": {"train": {"optim": {"epochs": 1}}}})
    dino, cells = (
        torch.load(checkpoints_in(segmented / f"data/test/06_models/{n}")[-1], weights_only=True) for n in ("dino", "wsdino_cells")
    )
    assert dino["meta"]["config"] == cells["meta"]["config"] and dino["meta"]["config"]["optim"]["epochs"] == 1
    assert dino["meta"]["unit"] == cells["meta"]["unit"] == "cell"
    assert dino["meta"]["weak_label"] is None and cells["meta"]["weak_label"] == "Metadata_Compound"
    student = [k for k in dino["student"] if k.startswith("backbone")]
    assert any(not torch.equal(dino["student"][k], cells["student"][k]) for k in student)  # other local crops, other steps


@pytest.mark.parametrize(
    ("pipeline", "params", "message"),
    [
        ("train_dino", {"train_dino": {"train": {"augment": {"local_crops": {"size": 12}}}}}, "local_crops.size 12 is not a multiple"),
        ("train_wsdino", {"train_wsdino": {"weak_labels": {"label": "Metadata_Gene"}}}, "weak_label 'Metadata_Gene' is not a column"),
        ("train_wsdino", {"train_wsdino": {"weak_labels": {"label": "Metadata_MoA"}}}, "determines the evaluation label"),
    ],
)
def test_bad_configuration_fails_before_training(segmented: Path, pipeline: str, params: dict, message: str) -> None:
    with pytest.raises(Exception, match=message):
        run_pipeline(segmented, pipeline, params=params)
    assert not list((segmented / "data/test/06_models").glob("*/*.pt"))


def test_resuming_against_data_with_other_channels_names_both_lists(segmented: Path) -> None:
    run_pipeline(segmented, "train_dino", params={"train_dino": {"train": {"optim": {"epochs": 1}}}})
    checkpoint = checkpoints_in(segmented / "data/test/06_models/dino")[-1]
    state = torch.load(checkpoint, weights_only=True)
    state["meta"]["channels"] = ["DNA", "Actin", "Tubulin"]
    torch.save(state, checkpoint)
    with pytest.raises(Exception, match=r"expected \['DNA', 'Actin', 'Tubulin'\], got \['DNA', 'Tubulin', 'Actin'\]"):
        run_pipeline(segmented, "train_dino", params={"train_dino": {"train": {"optim": {"epochs": 2}}}})


def test_cell_dino_train_entry_point_runs_the_training_node_and_its_reports(segmented: Path) -> None:
    """The entry point torchrun starts: same catalog and parameters as kedro run."""
    from click.testing import CliRunner

    from cell_dino.cli import cli, parse_params

    assert parse_params("train_dino.train.optim.epochs=1, train_dino.unit=cell") == {
        "train_dino": {"train": {"optim": {"epochs": 1}}, "unit": "cell"}
    }
    result = CliRunner().invoke(cli, ["train", "--pipeline", "train_dino", "-e", "test", "--params", "train_dino.train.optim.epochs=1"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert [p.name for p in checkpoints_in(segmented / "data/test/06_models/dino")] == ["checkpoint-epoch0000.pt"]
    assert json.loads((segmented / "data/test/08_reporting/train_dino.json").read_text())["epochs"] == 1


def test_resuming_with_another_architecture_names_the_changed_parameters(segmented: Path) -> None:
    run_pipeline(segmented, "train_dino", params={"train_dino": {"train": {"optim": {"epochs": 1}}}})
    with pytest.raises(
        Exception, match=r"cannot resume from .*checkpoint-epoch0000.pt: the model parameters changed \(backbone.depth: 2 -> 1\)"
    ):
        run_pipeline(segmented, "train_dino", params={"train_dino": {"train": {"optim": {"epochs": 2}, "backbone": {"depth": 1}}}})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"optim": {"lr": -0.001}}, r"optim\.lr\n.*greater than 0"),
        ({"runtime": {"checkpoint_every": 0}}, r"runtime\.checkpoint_every\n.*greater than or equal to 1"),
        ({"augment": {"local_crops": {"number": -1}}}, r"local_crops\.number\n.*greater than or equal to 0"),
        ({"augment": {"brightness_p": 1.5}}, r"augment\.brightness_p\n.*less than or equal to 1"),
        ({"optim": {"warmup_epochs": 5}}, r"optim\.warmup_epochs 5 exceeds optim\.epochs 2"),
    ],
)
def test_numeric_parameters_out_of_range_fail_before_any_node_runs(project: Path, params: dict, message: str) -> None:
    """lr < 0 and local_crops.number -1 were accepted; checkpoint_every 0 raised ZeroDivisionError after a whole epoch."""
    with pytest.raises(Exception, match=message):
        run_pipeline(project, "train_dino", params={"train_dino": {"train": params}})
    assert not (project / "data/test/03_primary").exists()  # nothing ran, not even the stores were opened


def test_weight_decay_zero_and_no_clipping_are_valid_settings() -> None:
    from cell_dino.train.loss import LossConfig
    from cell_dino.train.optimiser import OptimConfig
    from cell_dino.train.schedules import Schedules

    optim = OptimConfig(epochs=2, warmup_epochs=1, weight_decay=0.0, weight_decay_end=0.0, clip_grad=0)
    schedules = Schedules.of(optim, LossConfig(), iterations_per_epoch=3, total_batch=64)
    assert (schedules.weight_decay == 0).all() and len(schedules.lr) == 6


def test_wsdino_on_cells_takes_every_setting_of_dino_as_the_environment_leaves_it() -> None:
    """An environment's train_dino overrides reach WS-DINO on cells (a YAML interpolation resolved
    before environments merge did not); only the weak labels come from train_wsdino."""
    dino = parameters("train_dino", TrainingParams, mode="per_channel", train={"optim": {"epochs": 7}})
    wsdino = parameters("train_wsdino", TrainingParams, weak_labels={"label": "Metadata_Treatment"})
    cells = with_weak_labels(dino, wsdino)
    assert cells.model_dump(exclude={"weak_labels"}) == dino.model_dump(exclude={"weak_labels"})
    assert cells.mode == "per_channel" and cells.train.optim.epochs == 7 and cells.unit == "cell"
    assert cells.weak_labels == wsdino.weak_labels and cells.weak_labels.label == "Metadata_Treatment"
    with pytest.raises(ValueError, match="without weak_labels"):
        with_weak_labels(dino, dino)
