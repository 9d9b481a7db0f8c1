"""Kedro dataset for a training run's checkpoint folder."""

from __future__ import annotations

from pathlib import Path

from cell_dino.datasets.store import StoreDataset
from cell_dino.ssl.run import CheckpointSeries, TrainingRun


def _run(path: Path, run: TrainingRun) -> Path:
    return run(path)


class CheckpointsDataset(StoreDataset):
    """Saves by running a :class:`TrainingRun` into the folder (resuming from its last
    checkpoint); loads the :class:`CheckpointSeries`."""

    writer = staticmethod(_run)
    reader = CheckpointSeries
    marker = "."
    resumable = True  # training resumes from the checkpoints the folder holds: never set aside by the run journal

    def _exists(self) -> bool:
        return bool(list(self._filepath.glob("checkpoint-epoch*.pt")) or list(self._filepath.glob("channel-*/checkpoint-epoch*.pt")))
