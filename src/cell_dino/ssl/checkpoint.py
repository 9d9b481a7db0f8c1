"""Training checkpoints: written atomically, read with ``weights_only=True``, checked against data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from cell_dino.atomic import atomic_path
from cell_dino.data.channels import ChannelSpec

log = logging.getLogger(__name__)
PATTERN = "checkpoint-epoch{epoch:04d}.pt"


def save_checkpoint(state: dict[str, Any], directory: Path) -> Path:
    """Write ``state`` as ``checkpoint-epochNNNN.pt`` (temp file + rename) and return its path."""
    path = Path(directory) / PATTERN.format(epoch=state["epoch"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint (``weights_only``); an unreadable file (truncated, not a checkpoint) raises
    :class:`CheckpointError` naming it."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint, truncated or not a checkpoint ({type(exc).__name__}: {exc})") from exc


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read."""


def checkpoints_in(directory: Path) -> list[Path]:
    """Complete checkpoints in ``directory``, oldest epoch first."""
    return sorted(Path(directory).glob("checkpoint-epoch*.pt"))


def latest_loadable(directory: Path, map_location: str | torch.device = "cpu") -> tuple[Path, dict[str, Any]] | None:
    """The newest checkpoint in ``directory`` that can be read, and its state; each newer one that
    cannot is renamed ``<name>.unreadable`` (kept for inspection, out of every listing) with a
    warning naming it. None when there is no readable checkpoint."""
    for path in reversed(checkpoints_in(directory)):
        try:
            return path, load_checkpoint(path, map_location)
        except CheckpointError as error:
            log.warning("%s; resuming from the checkpoint before it", error)
            path.rename(path.with_name(path.name + ".unreadable"))
    return None


def clear_checkpoints(directory: Path) -> None:
    """Remove every checkpoint in ``directory`` (``runtime.resume: never``), with a log line."""
    old = checkpoints_in(directory)
    if old:
        log.warning("runtime.resume is 'never': removing %d checkpoint(s) of an earlier run in %s", len(old), directory)
    for path in old:
        path.unlink()


def require_channels(meta: dict[str, Any], channels: ChannelSpec, source: str) -> None:
    """A checkpoint only fits data with the same channels, in the same order."""
    ChannelSpec.of(meta["channels"]).require_same(channels, f"checkpoint {source} vs the data")
