import pytest
import torch
import torch.nn as nn

from cell_dino.encoders.backbone import BackboneConfig, create_backbone
from cell_dino.train.head import DINOHead
from cell_dino.train.multicrop import MultiCropWrapper

TINY = BackboneConfig(arch="vit_tiny", patch_size=8, img_size=32, drop_path_rate=0.0)


def test_backbone_takes_n_channels_and_any_crop_size() -> None:
    backbone = create_backbone(TINY, in_chans=5).eval()
    assert backbone.patch_embed.proj.weight.shape[1] == 5
    assert backbone(torch.randn(2, 5, 32, 32)).shape == (2, 192)
    assert backbone(torch.randn(2, 5, 16, 16)).shape == (2, 192)
    assert len(create_backbone(BackboneConfig("vit_tiny", 8, 32, 0.0, depth=4), 3).blocks) == 4
    with pytest.raises(ValueError, match="multiple of backbone.patch_size"):
        BackboneConfig(patch_size=16, img_size=200)


def test_head_shapes_and_fixed_last_layer_norm() -> None:
    head = DINOHead(192, out_dim=100, hidden_dim=64, bottleneck_dim=16)
    out = head(torch.randn(3, 192))
    assert out.shape == (3, 100)
    weight = head.last_layer.weight
    torch.testing.assert_close(weight.norm(dim=1), torch.ones(100))
    assert not head.last_layer.parametrizations.weight.original0.requires_grad
    assert DINOHead(8, 10, 16, 4, norm_last_layer=False).last_layer.parametrizations.weight.original0.requires_grad


def test_multicrop_runs_one_backbone_pass_per_resolution_and_keeps_order() -> None:
    backbone = create_backbone(TINY, in_chans=3).eval()
    calls: list[tuple] = []
    backbone.register_forward_hook(lambda m, i, o: calls.append(tuple(i[0].shape)))
    model = MultiCropWrapper(backbone, nn.Identity())
    crops = [torch.randn(2, 3, 32, 32) for _ in range(2)] + [torch.randn(2, 3, 16, 16) for _ in range(3)]
    out = model(crops)
    assert calls == [(4, 3, 32, 32), (6, 3, 16, 16)]
    separately = torch.cat([backbone(c) for c in crops])
    torch.testing.assert_close(out, separately, rtol=1e-4, atol=1e-5)
