"""``kedro run -e test --pipeline sweep`` on the test phantom: a 3-trial study, continued by a
second run, whose best parameters load as a train_dino override."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pandas as pd
import yaml
from kedro.config import OmegaConfigLoader

from cell_dino.pipelines.train_dino.params import TrainingParams
from cell_dino.settings import CONFIG_LOADER_ARGS
from tests.pipelines.conftest import run_pipeline


def test_sweep_runs_continues_and_feeds_train_dino(segmented: Path) -> None:
    run_pipeline(segmented, "sweep")
    out = segmented / "data/test/07_model_output/sweep"
    study = optuna.load_study(study_name="train_dino_augment", storage=f"sqlite:///{out / 'optuna.db'}")
    assert len(study.trials) == 3
    run_pipeline(segmented, "sweep", params={"sweep": {"n_trials": 1}})  # continues the same study
    trials = pd.read_parquet(out / "trials.parquet")
    assert trials["number"].tolist() == [0, 1, 2, 3] and set(trials["state"]) <= {"COMPLETE", "PRUNED"}
    completed = trials[trials["state"] == "COMPLETE"]
    assert completed["value"].between(0, 1).all()
    assert len(set(trials["params_augment.brightness_p"])) == 4  # the resumed sampler did not repeat a proposal

    report = json.loads((segmented / "data/test/08_reporting/sweep.json").read_text())
    assert report["best"]["value"] == completed["value"].max()
    split = report["validation"]
    assert not set(split["validation_groups"]) & set(split["test_groups"]) and len(split["validation_labels"]) == 2
    for name in ("sweep_history", "sweep_importance"):
        assert json.loads((segmented / f"data/test/08_reporting/figures/{name}.json").read_text())["data"]

    # the README's recipe: the best parameters as a conf/<env>/ file override train_dino there
    (segmented / "conf/swept").mkdir()
    (segmented / "conf/swept/parameters_train_dino.yml").write_text((out / "best_params.yml").read_text())
    loader = OmegaConfigLoader(
        str(segmented / "conf"), env="swept", **{k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    )
    augment = TrainingParams(**loader["parameters"]["train_dino"]).train.augment
    best = report["best"]["params"]
    assert augment.brightness_p == best["augment.brightness_p"] and augment.local_crops.number == best["augment.local_crops.number"]
    assert augment.global_crops.scale[0] == best["augment.global_crops.scale.0"]
    assert yaml.safe_load((out / "best_params.yml").read_text())["train_dino"]["train"]["augment"]["global_crops"]["scale"][1] == 1.0
