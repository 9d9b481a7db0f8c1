"""Teacher backbone features of stored images, streamed in batches with bf16 autocast."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn as nn

from cell_dino.models.backbone import BackboneConfig, create_backbone


def backbone_from_checkpoint(state: dict, which: str = "teacher") -> nn.Module:
    """The (teacher) backbone of a training checkpoint, in eval mode."""
    meta = state["meta"]
    config = BackboneConfig(**{**meta["config"]["backbone"], "drop_path_rate": 0.0})
    backbone = create_backbone(config, len(meta["channels"]))
    prefix = "backbone."
    backbone.load_state_dict({k.removeprefix(prefix): v for k, v in state[which].items() if k.startswith(prefix)})
    return backbone.eval()


def self_normalise(x: torch.Tensor) -> torch.Tensor:
    return (x - x.mean(dim=(2, 3), keepdim=True)) / (x.std(dim=(2, 3), keepdim=True) + 1e-6)


def batches(images, batch_size: int) -> Iterator[np.ndarray]:
    for start in range(0, images.shape[0], batch_size):
        yield np.nan_to_num(np.asarray(images[start : start + batch_size], dtype=np.float32))


@torch.no_grad()
def embed_images(backbone: nn.Module, images, batch_size: int = 64, device: str = "cpu") -> np.ndarray:
    """CLS features (after the final norm) of every image, self-normalised per image and channel."""
    backbone = backbone.to(device)
    out = []
    for batch in batches(images, batch_size):
        x = self_normalise(torch.from_numpy(batch).to(device))
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16):
            out.append(backbone(x).float().cpu().numpy())
    return np.concatenate(out)
