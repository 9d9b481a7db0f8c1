"""One sweep trial: brief DINO training with the trial's augmentations, scored after every epoch
by the teacher's k-NN label accuracy on the validation split (the query's group left out), with
median pruning on those intermediate scores."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import numpy as np
import optuna
import pandas as pd
import torch
from pydantic import Field
from torch import nn

from cell_dino.core.config import Count, NonNegativeInt, settings
from cell_dino.embed.model import FeatureConfig, FeatureExtractor
from cell_dino.encoders.preprocessing import Preprocessing, dataset_statistics
from cell_dino.evaluate.knn import knn_accuracy
from cell_dino.integrate.table import group_values, seeded_rows
from cell_dino.sweep.space import Dimension, apply, suggest
from cell_dino.sweep.split import ValidationSplit
from cell_dino.train.train_config import TrainConfig
from cell_dino.train.trainer import train
from cell_dino.train.training_data import TrainingData

log = logging.getLogger(__name__)


@settings
class TrialBudget:
    epochs: Count = 3
    max_items: Annotated[int, Field(ge=2)] = 3000  # seeded subset of the training items per trial
    max_validation_items: Annotated[int, Field(ge=2)] = 2000
    k: Count = 5
    batch_size: Count = 256  # for the validation features
    seed: NonNegativeInt = 0


@dataclass
class Validation:
    """The validation items, read once: images, labels and the groups left out of k-NN."""

    images: torch.Tensor
    labels: np.ndarray
    groups: np.ndarray

    @classmethod
    def of(cls, images, table: pd.DataFrame, split: ValidationSplit, limit: int, seed: int) -> Validation:
        rows = split.validation_rows(table)
        rows = rows[seeded_rows(len(rows), limit, seed)]
        pixels = np.stack([np.asarray(images[int(i)], dtype=np.float32) for i in rows])
        return cls(
            torch.from_numpy(np.nan_to_num(pixels)),
            table[split.label].astype(str).to_numpy()[rows],
            group_values(table, split.group)[rows],
        )

    def score(self, teacher: nn.Module, config: TrainConfig, stats: dict, k: int, batch_size: int) -> float:
        """k-NN accuracy of the teacher's CLS features, each query's group left out."""
        mean, std = (v.view(1, -1, 1, 1) for v in dataset_statistics(stats)) if config.augment.normalise == "dataset" else (None, None)
        device = next(teacher.parameters()).device
        extractor = FeatureExtractor(
            teacher.backbone, Preprocessing(config.augment.normalise, mean, std, config.augment.global_crops.size), FeatureConfig()
        )
        features = torch.cat([extractor(self.images[i : i + batch_size].to(device)).cpu() for i in range(0, len(self.images), batch_size)])
        return knn_accuracy(features.numpy(), self.labels, self.groups, k)


class Objective:
    """``study.optimize(Objective(...))``: each call trains one trial in ``trials_dir`` and removes
    its checkpoints afterwards (the best parameters, not the weights, are the sweep's result)."""

    def __init__(
        self,
        data: TrainingData,
        base: TrainConfig,
        space: dict[str, Dimension],
        validation: Validation,
        budget: TrialBudget,
        trials_dir: Path,
    ) -> None:
        self.data, self.base, self.space, self.validation = data, base, space, validation
        self.budget, self.trials_dir = budget, Path(trials_dir)

    def config(self, trial: optuna.Trial) -> TrainConfig:
        config = apply(self.base, suggest(trial, self.space))
        runtime = replace(config.runtime, resume="never", checkpoint_every=self.budget.epochs)
        epochs = self.budget.epochs  # the warm-up is shortened to fit a trial shorter than it
        config = replace(
            config, optim=replace(config.optim, epochs=epochs, warmup_epochs=min(config.optim.warmup_epochs, epochs)), runtime=runtime
        )
        config.check(self.data.channels)
        return config

    def subset(self, trial_number: int) -> TrainingData:
        """A seeded subset of at most ``max_items`` items for this trial."""
        if self.data.n_items <= self.budget.max_items:
            return self.data
        return self.data.subset(seeded_rows(self.data.n_items, self.budget.max_items, [self.budget.seed, trial_number]))

    def __call__(self, trial: optuna.Trial) -> float:
        config = self.config(trial)
        scores: list[float] = []

        def on_epoch(epoch: int, teacher: nn.Module) -> None:
            scores.append(self.validation.score(teacher, config, self.data.stats.as_dict(), self.budget.k, self.budget.batch_size))
            trial.report(scores[-1], epoch)
            log.info("trial %d epoch %d: validation k-NN %.3f", trial.number, epoch, scores[-1])
            if trial.should_prune():
                raise optuna.TrialPruned(f"epoch {epoch}: {scores[-1]:.3f} below the median of earlier trials")

        run_dir = self.trials_dir / f"trial-{trial.number:04d}"
        shutil.rmtree(run_dir, ignore_errors=True)
        try:
            train(self.subset(trial.number), config, run_dir, on_epoch=on_epoch)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        return scores[-1]
