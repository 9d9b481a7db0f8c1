"""ImageNet DINO per channel, the WS-DINO paper's transfer baseline (Cross-Zamirski et al. 2022):
a network pretrained on ImageNet RGB photographs (DINO's ViT-S/16, ``dino_deitsmall16_pretrain.pth``)
sees each channel of an item as a greyscale RGB image; the channels' features are concatenated.
Nothing is trained here, so the baseline needs the weights as a local file: without one the model
is skipped (an embedding with no items, logged), and every metric downstream is undefined."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import torch
import torch.nn as nn

from cell_dino.core.config import Count, settings
from cell_dino.core.generation import file_identity
from cell_dino.core.runtime import Precision, pick_device, resolved_precision
from cell_dino.data.items import Items, Unit
from cell_dino.embed.embedding_job import EmbeddingJob
from cell_dino.embed.model import FeatureConfig, greyscale_rgb_extractor
from cell_dino.encoders.backbone import BackboneConfig, create_backbone

log = logging.getLogger(__name__)
PARAMETER = "embed.imagenet.weights"


@settings
class TransferConfig:
    weights: str | None = None  # a local RGB DINO weights file (dino_deitsmall16_pretrain.pth) or timm:<name>; None: skipped
    backbone: BackboneConfig = BackboneConfig()  # the weights' architecture: DINO's ViT-S/16
    size: Count = 224  # the side each crop is resized to: ImageNet's training size
    unit: Unit = "fov"  # the WS-DINO paper embeds whole fields (with its test-time crops); cell: the crop store's cells

    def __post_init__(self) -> None:  # checked with the parameters, before any node runs (not after hours of other models)
        if self.weights is not None and not self.weights.startswith("timm:") and not Path(self.weights).expanduser().is_file():
            raise ValueError(f"{PARAMETER}: weights file {self.weights} not found (leave it unset to skip the ImageNet baseline)")


class _NoFeatures(nn.Module):
    """Stands in for a network that is not there: ``B x width`` zeros (only ever given no items, so
    that the empty embedding has the columns the network's would have)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(len(x), self.width)


def transfer_job(
    items: Items, config: TransferConfig, features: FeatureConfig, batch_size: int, shard_size: int, device: str, precision: Precision
) -> EmbeddingJob:
    """The job embedding every item (``N x C x H x W``) into ``C x D`` features (``D`` the network's
    width; each channel self-normalised, resized to ``config.size``, repeated to RGB); with no
    ``config.weights``, a job of no items whose record says why (``skipped``). Raises
    FileNotFoundError / ValueError naming ``embed.imagenet.weights`` for a file that is absent or
    does not fit ``config.backbone``."""
    if config.weights is None:
        reason = f"no ImageNet weights file: set {PARAMETER} to a local RGB DINO checkpoint (dino_deitsmall16_pretrain.pth)"
        log.warning("imagenet model skipped: %s", reason)  # a warning: an earlier embedding with weights is replaced
        signature = {"skipped": True, "store": items.generation, "unit": items.unit}
        width = create_backbone(config.backbone, 3).num_features * len(items.channels.names)
        job = EmbeddingJob(_NoFeatures(width), items.images[:0], items.table.iloc[:0], signature, batch_size, shard_size, device, precision)
        job.report.update({"unit": items.unit, "skipped": reason})
        return job
    weights = config.weights if config.weights.startswith("timm:") else str(Path(config.weights).expanduser())
    extractor = greyscale_rgb_extractor(weights, config.backbone, config.size, features, PARAMETER)
    resolved = pick_device(device)
    signature = {
        "weights": weights if weights.startswith("timm:") else file_identity(weights),
        "config": dataclasses.asdict(config),
        "features": dataclasses.asdict(features),
        "store": items.generation,
        "unit": items.unit,
        "device": str(resolved),
        "precision": resolved_precision(precision, resolved),
    }
    job = EmbeddingJob(extractor, items.images, items.table, signature, batch_size, shard_size, device, precision)
    job.report.update({"unit": items.unit, "weights": config.weights, "channels": list(items.channels.names), "n_items_skipped": items.skipped})
    return job
