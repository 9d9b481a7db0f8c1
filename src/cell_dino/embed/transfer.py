"""ImageNet DINO per channel, the WS-DINO paper's transfer baseline (Cross-Zamirski et al. 2022):
a network pretrained on ImageNet RGB photographs (DINO's ViT-S/16, ``dino_deitsmall16_pretrain.pth``)
sees each channel of an item as a greyscale RGB image; the channels' features are concatenated.
Nothing is trained here, so the baseline needs the weights as a local file: without one the model
is skipped (an embedding with no items, logged), and every metric downstream is undefined."""

from __future__ import annotations

from pathlib import Path

from cell_dino.core.config import Count, settings
from cell_dino.core.generation import file_identity
from cell_dino.core.runtime import Precision
from cell_dino.data.items import Items, Unit
from cell_dino.embed.embedding_job import EmbeddingJob
from cell_dino.embed.file_model import file_model_job, skipped_job
from cell_dino.embed.model import FeatureConfig, greyscale_rgb_extractor
from cell_dino.encoders.backbone import BackboneConfig, create_backbone

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
        width = create_backbone(config.backbone, 3).num_features * len(items.channels.names)
        return skipped_job("imagenet", reason, items, width, batch_size, shard_size, device, precision)
    weights = config.weights if config.weights.startswith("timm:") else str(Path(config.weights).expanduser())
    extractor = greyscale_rgb_extractor(weights, config.backbone, config.size, features, PARAMETER)
    identity = weights if weights.startswith("timm:") else file_identity(weights)
    return file_model_job(extractor, items, identity, config, features, batch_size, shard_size, device, precision, weights=config.weights)
