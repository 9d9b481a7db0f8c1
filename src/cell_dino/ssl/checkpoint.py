"""Training checkpoints: written atomically, read with ``weights_only=True``, checked against data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from cell_dino.atomic import atomic_path
from cell_dino.data.channels import ChannelSpec

PATTERN = "checkpoint-epoch{epoch:04d}.pt"


def save_checkpoint(state: dict[str, Any], directory: Path) -> Path:
    """Write ``state`` as ``checkpoint-epochNNNN.pt`` (temp file + rename) and return its path."""
    path = Path(directory) / PATTERN.format(epoch=state["epoch"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    return torch.load(path, map_location=map_location, weights_only=True)


def checkpoints_in(directory: Path) -> list[Path]:
    """Complete checkpoints in ``directory``, oldest epoch first."""
    return sorted(Path(directory).glob("checkpoint-epoch*.pt"))


def require_channels(meta: dict[str, Any], channels: ChannelSpec, source: str) -> None:
    """A checkpoint only fits data with the same channels, in the same order."""
    ChannelSpec.of(meta["channels"]).require_same(channels, f"checkpoint {source} vs the data")
