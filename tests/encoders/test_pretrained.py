"""Initialising N-channel backbones from RGB DINO weights (a local checkpoint file)."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from cell_dino.encoders.backbone import BackboneConfig, create_backbone
from cell_dino.encoders.pretrained import inflate_patch_embedding, load_rgb_weights

CONFIG = BackboneConfig("vit_tiny", 8, 32, 0.0)


def test_inflated_filters_respond_to_a_uniform_stack_as_rgb_filters_to_grey() -> None:
    generator = torch.Generator().manual_seed(0)  # float64: the two sums differ only by rounding (in float32, 1e-5 at times)
    rgb = torch.randn(4, 3, 8, 8, generator=generator, dtype=torch.float64)
    inflated = inflate_patch_embedding(rgb, 5)
    grey = torch.rand(1, 1, 16, 16, generator=generator, dtype=torch.float64)
    torch.testing.assert_close(
        F.conv2d(grey.expand(1, 5, 16, 16), inflated), F.conv2d(grey.expand(1, 3, 16, 16), rgb), rtol=1e-4, atol=1e-5
    )


def test_rgb_dino_checkpoint_loads_into_a_five_channel_backbone(tmp_path: Path) -> None:
    rgb = create_backbone(BackboneConfig("vit_tiny", 8, 64, 0.0), 3)
    state = {"teacher": {f"module.backbone.{k}": v for k, v in rgb.state_dict().items()} | {"module.head.mlp.0.weight": torch.ones(1)}}
    torch.save(state, tmp_path / "dino_deitsmall8.pth")
    five = create_backbone(CONFIG, 5)
    load_rgb_weights(five, str(tmp_path / "dino_deitsmall8.pth"))
    torch.testing.assert_close(five.patch_embed.proj.weight, inflate_patch_embedding(rgb.patch_embed.proj.weight, 5))
    torch.testing.assert_close(five.blocks[3].mlp.fc1.weight, rgb.blocks[3].mlp.fc1.weight)
    assert five.pos_embed.shape[1] == 1 + 4 * 4  # resampled from the 8 x 8 grid of 64 px to 4 x 4
    with pytest.raises(FileNotFoundError, match="not found"):
        load_rgb_weights(five, str(tmp_path / "absent.pth"))


def test_a_greyscale_model_sees_its_channel_as_rgb_the_paper_does() -> None:
    """WS-DINO repeats each grey channel to RGB for the ImageNet weights: a 1-channel model with the
    inflated filters gives exactly that response."""
    generator = torch.Generator().manual_seed(0)
    rgb = torch.randn(4, 3, 8, 8, generator=generator, dtype=torch.float64)
    grey = torch.rand(1, 1, 16, 16, generator=generator, dtype=torch.float64)
    torch.testing.assert_close(
        F.conv2d(grey, inflate_patch_embedding(rgb, 1)), F.conv2d(grey.repeat(1, 3, 1, 1), rgb), rtol=1e-4, atol=1e-5
    )


def test_weights_of_another_patch_size_or_a_full_training_checkpoint_are_named_errors(tmp_path: Path) -> None:
    """A ViT-S/16 file for a ViT-S/8 model raised torch's size-mismatch error naming neither the file
    nor train.init; DINO's full checkpoint (argparse arguments pickled) an UnpicklingError."""
    import argparse

    patch16 = create_backbone(BackboneConfig("vit_tiny", 16, 64, 0.0), 3)
    torch.save(patch16.state_dict(), tmp_path / "vit16.pth")
    with pytest.raises(ValueError, match=r"train.init: weights from .*vit16.pth do not fit the backbone.*patch_embed.proj.weight"):
        load_rgb_weights(create_backbone(CONFIG, 1), str(tmp_path / "vit16.pth"))
    torch.save({"teacher": patch16.state_dict(), "args": argparse.Namespace(arch="vit_small")}, tmp_path / "checkpoint.pth")
    with pytest.raises(ValueError, match=r"train.init: .*checkpoint.pth is not a file of tensors alone.*backbone-only"):
        load_rgb_weights(create_backbone(CONFIG, 1), str(tmp_path / "checkpoint.pth"))
