"""Writes the published models' reference fixtures: each model's own code (read from its authors'
repository) builds a small network at random initialisation, its weights are saved in the layout of
the published file, and the authors' preprocessing and forward give the features of a fixed input.
``tests/encoders/test_published.py`` asserts that the project's loaders compute the same features.

Run outside the project's environment, with the reference checkouts exported under REFS:

    python -m venv /tmp/refvenv && echo <project>/.venv/lib/python3.11/site-packages > /tmp/refvenv/lib/python3.11/site-packages/p.pth
    /tmp/refvenv/bin/pip install timm==0.9.7 transformers==4.45.1   # OpenPhenom's timm; SubCell's transformers
    /tmp/refvenv/bin/python tests/published/make_fixtures.py REFS

REFS holds ``dino4cells`` (broadinstitute/DINO4Cells_code 8015506, ``archs/``), ``chammi``
(CaicedoLab/CHAMMI-75 b84a4ec, ``benchmarks/``), ``dinov2`` (facebookresearch/dinov2 at 7764ea0f,
``dinov2/``), ``maes`` (recursionpharma/maes_microscopy b3e68bb) and ``subcell``
(CellProfiling/SubCellPortable 676f0e1, ``vit_model.py``, ``inference.py``).
"""

from __future__ import annotations

import argparse
import ast
import logging
import sys
import types
from functools import partial
from pathlib import Path

import torch
import torch.nn as nn
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parent
log = logging.getLogger("make_fixtures")


def reference_class(path: Path, name: str, namespace: dict) -> type:
    """One class of a reference module, compiled alone (its module imports what is not installed)."""
    tree = ast.parse(path.read_text())
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    exec(compile(ast.Module([node], []), str(path), "exec"), namespace)  # noqa: S102 - the reference's own code
    return namespace[name]


def perturbed(model: nn.Module, seed: int) -> nn.Module:
    """Every parameter moved off its initial value (norms' ones and zeros included), so each matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=generator))
    return model.eval()


def pixels(channels: int, side: int, seed: int) -> torch.Tensor:
    """Two images of 8-bit intensities (no 255: MorphEm's noise injector never fires)."""
    return torch.randint(0, 250, (2, channels, side, side), generator=torch.Generator().manual_seed(seed)).float()


def save(name: str, x: torch.Tensor, features: torch.Tensor, channels: int) -> None:
    torch.save({"input": x, "features": features.detach(), "channels": channels}, OUT / f"{name}.expected.pt")
    log.info("%s: input %s -> features %s", name, tuple(x.shape), tuple(features.shape))


def dino4cells(refs: Path) -> None:
    utils = types.ModuleType("utils")
    utils.utils = types.SimpleNamespace(trunc_normal_=nn.init.trunc_normal_)
    sys.modules.update({"utils": utils, "utils.utils": utils.utils})
    sys.path.insert(0, str(refs / "dino4cells"))
    from archs import vision_transformer as vits

    torch.manual_seed(0)
    model = perturbed(vits.VisionTransformer(img_size=[32], patch_size=8, in_chans=4, embed_dim=128, depth=2, num_heads=2,
                                             mlp_ratio=2, qkv_bias=True, norm_layer=partial(nn.LayerNorm, eps=1e-6)), 1)
    normalise = reference_class(refs / "dino4cells_augmentations.py", "self_normalize", {})()
    x = pixels(4, 32, 2)
    with torch.no_grad():
        features = model(torch.stack([normalise(img.clone() / 255.0) for img in x]))
    teacher = {f"backbone.{k}": v for k, v in model.state_dict().items()} | {"head.last_layer.weight_v": torch.randn(16, 8)}
    torch.save({"teacher": teacher, "epoch": 3, "args": argparse.Namespace(arch="vit_base")}, OUT / "dino4cells.pth")
    save("dino4cells", x / 255.0, features, 4)


def morphem(refs: Path) -> None:
    sys.path.insert(0, str(refs / "chammi/benchmarks"))
    from feat_models.vision_transformer import VisionTransformer

    torch.manual_seed(0)
    model = perturbed(VisionTransformer(img_size=[32], patch_size=8, in_chans=1, embed_dim=64, depth=2, num_heads=1, mlp_ratio=2,
                                        qkv_bias=True, norm_layer=partial(nn.LayerNorm, eps=1e-6)), 3)
    normalise = reference_class(refs / "chammi/benchmarks/models.py", "PerImageNormalize", {"nn": nn, "torch": torch})()
    x = pixels(3, 32, 4) / 255.0
    with torch.no_grad():
        images = torch.stack([normalise(img) for img in x])
        features = torch.cat([model.forward_features(images[:, c : c + 1])["x_norm_clstoken"] for c in range(3)], dim=1)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, OUT / "morphem.safetensors")
    save("morphem", x, features, 3)


def cell_dino(refs: Path) -> None:
    sys.path.insert(0, str(refs / "dinov2"))
    from dinov2.data.cell_dino.transforms import Div255, SelfNormalizeNoDiv
    from dinov2.layers import MemEffAttention
    from dinov2.layers import NestedTensorBlock as Block
    from dinov2.models.vision_transformer import DinoVisionTransformer

    for name, in_chans, adaptive in (("cell_dino", 5, False), ("cell_dino_channel_adaptive", 1, True)):
        torch.manual_seed(0)
        model = perturbed(DinoVisionTransformer(img_size=32, patch_size=8, in_chans=in_chans, embed_dim=64, depth=4, num_heads=1,
                                                mlp_ratio=2, init_values=1.0, block_chunks=4, channel_adaptive=adaptive,
                                                block_fn=partial(Block, attn_class=MemEffAttention)), 5)
        x = pixels(5, 32, 6)
        prepared = SelfNormalizeNoDiv()(Div255()(x))
        with torch.no_grad():
            if adaptive:
                features = model.get_intermediate_layers(prepared, n=1, return_class_token=True)[0][1]
            else:
                features = model(prepared)
        torch.save(model.state_dict(), OUT / f"{name}.pth")
        save(name, x, features, 5)


def openphenom(refs: Path) -> None:
    sys.path.insert(0, str(refs / "maes"))
    import vit

    torch.manual_seed(0)
    backbone = vit.vit_small_patch16_256(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=1, mlp_ratio=2, global_pool="avg")
    model = perturbed(vit.channel_agnostic_vit(vit.sincos_positional_encoding_vit(backbone), max_in_chans=11), 7)
    x = pixels(6, 32, 8)
    norm = nn.Sequential(nn.InstanceNorm2d(None, affine=False, track_running_stats=False))  # MAEModel.input_norm after /255
    with torch.no_grad():
        tokens = model.forward_features(norm(x.float() / 255))
        features = tokens[:, 1:, :].mean(dim=1)
    state = {f"encoder.vit_backbone.{k}": v for k, v in model.state_dict().items()} | {"decoder.mask_token": torch.randn(1, 1, 8)}
    torch.save({"state_dict": state}, OUT / "openphenom.safetensors")  # the published model.safetensors is a torch file too
    save("openphenom", x, features, 6)


def subcell(refs: Path) -> None:
    sys.path.insert(0, str(refs / "subcell"))
    from inference import min_max_standardize
    from vit_model import ViTPoolClassifier

    config = {
        "vit_model": {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 256, "image_size": 32,
                      "patch_size": 8, "num_channels": 4, "qkv_bias": True, "layer_norm_eps": 1e-12, "hidden_act": "gelu",
                      "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
        "pool_model": {"dim": 128, "int_dim": 32, "num_heads": 2},
        "num_classes": 31,
    }
    torch.manual_seed(0)
    built = perturbed(ViTPoolClassifier(config), 9)
    pool = {f"pool_model.{k.replace('_v.0.', '_v.1.').replace('_u.0.', '_u.1.')}": v for k, v in built.pool_model.state_dict().items()}
    torch.save({f"encoder.{k}": v for k, v in built.encoder.state_dict().items()} | pool, OUT / "subcell.pth")
    classifier = OUT / "subcell_classifier.tmp"
    torch.save(built.make_classifier().state_dict(), classifier)
    model = ViTPoolClassifier(config)
    model.load_model_dict(str(OUT / "subcell.pth"), str(classifier))  # the published file read by the authors' loader
    classifier.unlink()
    x = pixels(4, 32, 10) * 3.7  # any range: min-max scaled over the crop
    with torch.no_grad():
        features = model.eval()(min_max_standardize(x)).pool_op
    save("subcell", x, features, 4)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("refs", type=Path)
    refs = parser.parse_args().refs
    for make in (dino4cells, morphem, cell_dino, openphenom, subcell):
        make(refs)


if __name__ == "__main__":
    main()
