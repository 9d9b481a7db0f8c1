"""A training run as a value: data, config and where it came from; run by the checkpoint dataset
(from a Kedro node) or by ``cell-dino train`` (under torchrun).

``mode: multichannel`` trains one N-channel model (DINO4Cells) in the run folder; ``per_channel``
trains one single-channel model per channel (WS-DINO), each in ``channel-<name>/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cell_dino.ssl.checkpoint import checkpoints_in, load_checkpoint
from cell_dino.ssl.trainer import TrainConfig, TrainingData, train

Mode = Literal["multichannel", "per_channel"]
CHANNEL_FOLDER = "channel-{name}"


@dataclass
class TrainingRun:
    data: TrainingData
    config: TrainConfig
    mode: Mode = "multichannel"

    def __call__(self, run_dir: Path) -> Path:
        if self.mode == "multichannel":
            return train(self.data, self.config, run_dir)
        if self.mode != "per_channel":
            raise ValueError(f"mode must be 'multichannel' or 'per_channel', got {self.mode!r}")
        last = Path(run_dir)
        for name in self.data.channels.names:
            last = train(self.data.channel(name), self.config, Path(run_dir) / CHANNEL_FOLDER.format(name=name))
        return last


class CheckpointSeries:
    """The checkpoints of a run, oldest first; loading is on demand. A per-channel run holds one
    series per channel (``channels``); its ``paths`` and history are those of the first channel."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        folders = sorted(self.directory.glob(CHANNEL_FOLDER.format(name="*")))
        self.channels = [CheckpointSeries(f) for f in folders]
        self.paths = self.channels[0].paths if self.channels else checkpoints_in(self.directory)
        if not self.paths or any(len(c.paths) != len(self.paths) for c in self.channels):
            raise FileNotFoundError(f"{self.directory}: no complete set of checkpoints (run the training pipeline)")

    @property
    def per_channel(self) -> bool:
        return bool(self.channels)

    def latest(self, map_location: str = "cpu") -> dict:
        return load_checkpoint(self.paths[-1], map_location)

    def load(self, index: int, map_location: str = "cpu") -> dict:
        return load_checkpoint(self.paths[index], map_location)

    def files(self, index: int = -1) -> list[Path]:
        """The checkpoint file at ``index`` of every model of the run (one, or one per channel)."""
        return [s.paths[index] for s in (self.channels or [self])]

    def states(self, index: int = -1, map_location: str = "cpu") -> list[dict]:
        """The checkpoint at ``index`` of every model of the run (one, or one per channel)."""
        return [load_checkpoint(path, map_location) for path in self.files(index)]
