"""The backbone factory: timm vision transformers with any number of input channels."""

from __future__ import annotations

from typing import Annotated, Literal

import timm
import torch.nn as nn
from pydantic import Field

from cell_dino.core.config import Count, settings

Architecture = Literal["vit_tiny", "vit_small", "vit_base"]


@settings
class BackboneConfig:
    """A timm ViT: size, patch, input channels; ``img_size`` only sets the position-embedding grid
    (``dynamic_img_size`` interpolates it for every crop size)."""

    arch: Architecture = "vit_small"
    patch_size: Count = 16
    img_size: Count = 224
    drop_path_rate: Annotated[float, Field(ge=0, lt=1)] = 0.1
    depth: Count | None = None  # None: the architecture's own (12); fewer blocks for quick CPU runs

    def __post_init__(self) -> None:
        if self.img_size % self.patch_size:
            raise ValueError(f"backbone.img_size {self.img_size} must be a multiple of backbone.patch_size {self.patch_size}")


def create_backbone(config: BackboneConfig, in_chans: int) -> nn.Module:
    """A randomly initialised ViT whose ``forward`` returns the CLS token after the final norm."""
    return timm.create_model(
        f"{config.arch}_patch16_224",
        pretrained=False,
        num_classes=0,
        in_chans=in_chans,
        patch_size=config.patch_size,
        img_size=config.img_size,
        dynamic_img_size=True,
        drop_path_rate=config.drop_path_rate,
        **({} if config.depth is None else {"depth": config.depth}),
    )
