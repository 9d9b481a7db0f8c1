"""A training run as a value: data, config and where it came from; run by the checkpoint dataset
(from a Kedro node) or by ``cell-dino train`` (under torchrun)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cell_dino.ssl.checkpoint import checkpoints_in, load_checkpoint
from cell_dino.ssl.trainer import TrainConfig, TrainingData, train


@dataclass
class TrainingRun:
    data: TrainingData
    config: TrainConfig

    def __call__(self, run_dir: Path) -> Path:
        return train(self.data, self.config, run_dir)


class CheckpointSeries:
    """The checkpoints of a run, oldest first; loading is on demand."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.paths = checkpoints_in(self.directory)
        if not self.paths:
            raise FileNotFoundError(f"{self.directory}: no checkpoints (run the training pipeline)")

    def latest(self, map_location: str = "cpu") -> dict:
        return load_checkpoint(self.paths[-1], map_location)

    def load(self, index: int, map_location: str = "cpu") -> dict:
        return load_checkpoint(self.paths[index], map_location)
