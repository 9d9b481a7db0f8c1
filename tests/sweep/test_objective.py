from pathlib import Path

import numpy as np
import optuna
import pytest
import torch

import cell_dino.sweep.objective as objective
from cell_dino.data.channels import ChannelSpec, ChannelStats
from cell_dino.sweep.objective import Objective, TrialBudget, Validation
from cell_dino.sweep.space import Dimension
from cell_dino.train.train_config import TrainConfig
from cell_dino.train.training_data import TrainingData


def test_a_trial_below_the_median_is_pruned_and_its_checkpoints_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    def fake_train(data, config, run_dir, on_epoch):  # two epochs, each scored
        run_dir.mkdir(parents=True)
        for epoch in range(config.optim.epochs):
            on_epoch(epoch, None)

    scores = iter([0.9, 0.9, 0.1, 0.1])  # trial 0 ends at 0.9; trial 1 starts at 0.1 < the median
    monkeypatch.setattr(objective, "train", fake_train)
    monkeypatch.setattr(Validation, "score", lambda self, *args: next(scores))
    data = TrainingData(
        np.zeros((4, 1, 8, 8), np.float32),
        ChannelSpec(("DNA",)),
        ChannelStats(["DNA"], [0.0], [1.0], [0.0], [0.0], [1.0], [2.0], 256),
        "cell",
    )
    run = Objective(
        data,
        TrainConfig(),
        {"augment.brightness_p": Dimension(low=0, high=1)},
        Validation(torch.zeros(1), np.array(["a"]), np.array(["g"])),
        TrialBudget(epochs=2),
        tmp_path,
    )
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0))
    study.optimize(run, n_trials=2)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED]
    assert study.trials[0].value == 0.9 and study.trials[0].intermediate_values == {0: 0.9, 1: 0.9}
    assert study.trials[1].intermediate_values == {0: 0.1}
    assert not list(tmp_path.iterdir())  # both trials' run folders removed
