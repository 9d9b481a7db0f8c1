"""One DINO training step, six ways, side by side in one run (one JSON line):

- ``cell_dino``: this trainer's step: on-device multi-crop augmentation, the trainer's precision
  (``precision: auto``: bf16 autocast where the device computes bf16 natively, else fp32), the
  attention kernel the trainer picks (math on CPU, fused on GPU), one backbone pass per crop
  resolution, DINO loss, fused AdamW, EMA teacher;
- ``cell_dino_compiled``: the same with ``runtime.compile: true`` (the student's forward through
  ``torch.compile``; the first steps, which compile, are not timed);
- ``plain``: the same step written plainly: fp32, eager, no fused attention, no autocast;
- ``lightly``: lightly's ``DINOProjectionHead`` and ``DINOLoss`` on the same timm backbone and crops, fp32;
- ``lightly_same_precision``: the same, under the trainer's precision and attention kernel (a like-for-like ratio);
- ``lightly_pipeline``: a lightly user's pipeline end to end: lightly's ``DINOTransform`` (per-sample
  torchvision multi-crop on PIL images) in 2 DataLoader workers, one forward per view, lightly's
  head and loss, fp32; its images/s include the data loading.

Each step's model FLOPs (forward and backward, counted by ``torch.utils.flop_counter``) over its
time give the FLOP rate, and its model FLOP utilisation (MFU) against the bf16 and fp32 matrix-product
peaks measured in the same run. Fixed configuration: ViT-S/16, 3 channels, batch 32, 2 global crops
of 96 px, 6 local crops of 48 px, out_dim 65,536. Each variant runs in a fresh process (its own peak
memory). The lightly variants need ``pip install lightly``.

    python benchmarks/train_step.py [--steps 5] [--global-size 96 --local-size 48]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import platform
import subprocess
import sys
import time

import numpy as np
import timm
import torch
import torch.nn as nn

from cell_dino.core.reporting import peak_rss_mb
from cell_dino.core.runtime import attention_kernels, autocast, peak_gpu_mb, resolved_precision
from cell_dino.encoders.backbone import BackboneConfig, create_backbone
from cell_dino.train.augment import AugmentConfig, CropSpec, multicrop
from cell_dino.train.ema import update_teacher
from cell_dino.train.head import DINOHead
from cell_dino.train.loss import DINOLoss
from cell_dino.train.multicrop import MultiCropWrapper
from cell_dino.train.optimiser import adamw, clip_gradients, parameter_groups

CHANNELS = ("DNA", "Tubulin", "Actin")
BATCH, OUT_DIM = 32, 65536


def models(variant: str, device: torch.device) -> tuple[nn.Module, nn.Module, nn.Module]:
    timm.layers.set_fused_attn(variant != "plain")
    config = BackboneConfig("vit_small", 16, 224, 0.1)
    backbones = [create_backbone(config, len(CHANNELS)) for _ in range(2)]
    if variant.startswith("lightly"):
        from lightly.loss import DINOLoss as LightlyLoss
        from lightly.models.modules import DINOProjectionHead

        heads = [DINOProjectionHead(384, 2048, 256, OUT_DIM) for _ in range(2)]
        loss = LightlyLoss(output_dim=OUT_DIM, warmup_teacher_temp_epochs=0)
    else:
        heads = [DINOHead(384, OUT_DIM) for _ in range(2)]
        loss = DINOLoss(OUT_DIM)
    student, teacher = (MultiCropWrapper(b, h).to(device) for b, h in zip(backbones, heads))
    teacher.load_state_dict(student.state_dict())
    return student, teacher, loss.to(device)


TRAINER_LIKE = ("cell_dino", "cell_dino_compiled", "lightly_same_precision")  # the trainer's precision and attention kernel


def learn(variant: str, student, teacher, loss_fn, optimizer, crops, device) -> None:
    """Forward (teacher on the global crops, student on all), loss, backward, clipping, AdamW, EMA."""
    precision = autocast(device, "auto") if variant in TRAINER_LIKE else contextlib.nullcontext()
    kernels = attention_kernels(device, "auto") if variant in TRAINER_LIKE else contextlib.nullcontext()
    with precision, kernels:
        with torch.no_grad():
            teacher_out = teacher(crops[:2]) if variant != "lightly_pipeline" else torch.cat([teacher([v]) for v in crops[:2]])
        student_out = student(crops) if variant != "lightly_pipeline" else torch.cat([student([v]) for v in crops])
    if variant.startswith("lightly"):
        loss = loss_fn(list(teacher_out.float().chunk(2)), list(student_out.float().chunk(len(crops))), teacher_temp=0.04)
    else:
        out = loss_fn(student_out, teacher_out, 0.04)  # the loss with the trainer's collapse metrics (entropy, KL)
        loss = out.loss
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    clip_gradients(student, 3.0)
    optimizer.step()
    update_teacher(student, teacher, 0.996)
    if not variant.startswith("lightly"):
        (out.loss.item(), out.teacher_entropy.item(), out.kl.item())  # the trainer logs all three every step


class RandomImages(torch.utils.data.Dataset):
    """Seeded random RGB PIL images of ``size`` px, as a lightly user's image folder gives them."""

    def __init__(self, size: int, transform) -> None:
        self.size, self.transform = size, transform

    def __len__(self) -> int:
        return 10**6

    def __getitem__(self, index: int):
        from PIL import Image

        pixels = np.random.default_rng(index).integers(0, 256, (self.size, self.size, 3), dtype=np.uint8)
        return self.transform(Image.fromarray(pixels))


def lightly_batches(global_size: int, local_size: int):
    """Batches of views from lightly's ``DINOTransform`` in 2 DataLoader workers (persistent)."""
    from lightly.transforms import DINOTransform

    transform = DINOTransform(global_crop_size=global_size, local_crop_size=local_size, n_local_views=6)
    loader = torch.utils.data.DataLoader(RandomImages(2 * global_size, transform), BATCH, num_workers=2, persistent_workers=True)
    return iter(loader)


def model_flops(variant: str, student, teacher, loss_fn, optimizer, crops, device) -> float:
    """FLOPs of one step's forward and backward passes (matrix products and attention)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        learn(variant, student, teacher, loss_fn, optimizer, crops, device)
    return float(counter.get_total_flops())


def matmul_peak(device: torch.device, dtype: torch.dtype, n: int = 4096, repeats: int = 10) -> float:
    """The device's matrix-product FLOP rate at ``dtype`` (n x n x n products, best of ``repeats``)."""
    a, b = (torch.randn(n, n, device=device).to(dtype) for _ in range(2))
    best = float("inf")
    for _ in range(repeats + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def measure(variant: str, steps: int, global_size: int, local_size: int) -> dict:
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    student, teacher, loss_fn = models(variant, device)
    optimizer = adamw(student, device) if variant in TRAINER_LIKE else torch.optim.AdamW(parameter_groups(student))
    if variant == "cell_dino_compiled":  # the trainer's runtime.compile: the student's forward through torch.compile
        student.forward = torch.compile(student.forward)
    if variant == "lightly_pipeline":
        batches = lightly_batches(global_size, local_size)

        def step() -> list[torch.Tensor]:
            crops = [view.to(device) for view in next(batches)]
            learn(variant, student, teacher, loss_fn, optimizer, crops, device)
            return crops
    else:
        augment = AugmentConfig(global_crops=CropSpec(2, global_size, (0.4, 1.0)), local_crops=CropSpec(6, local_size, (0.05, 0.4)))
        images = torch.rand(BATCH, len(CHANNELS), 2 * global_size, 2 * global_size, device=device) * 1000
        generator = torch.Generator(device).manual_seed(0)

        def step() -> list[torch.Tensor]:
            crops = multicrop(images, images, augment, CHANNELS, generator)
            learn(variant, student, teacher, loss_fn, optimizer, crops, device)
            return crops

    for _ in range(2):
        crops = step()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / steps
    flops = model_flops(variant, student, teacher, loss_fn, optimizer, crops, device)
    peaks = {"bf16": matmul_peak(device, torch.bfloat16), "fp32": matmul_peak(device, torch.float32)}
    return {
        "variant": variant,
        "device": device.type,
        "precision": resolved_precision("auto", device) if variant in TRAINER_LIKE else "fp32",
        "seconds_per_step": seconds,
        "images_per_second": BATCH / seconds,
        "model_gflop_per_step": flops / 1e9,
        "achieved_gflop_per_s": flops / seconds / 1e9,
        "matmul_peak_gflop_per_s": {k: v / 1e9 for k, v in peaks.items()},
        "mfu": {k: flops / seconds / v for k, v in peaks.items()},
        "peak_rss_mb": peak_rss_mb(),
        "peak_gpu_mb": peak_gpu_mb(device),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--global-size", type=int, default=96)
    parser.add_argument("--local-size", type=int, default=48)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(measure(args.variant, args.steps, args.global_size, args.local_size)))
        return
    lightly = ["lightly", "lightly_same_precision", "lightly_pipeline"] if importlib.util.find_spec("lightly") else []
    variants = ["cell_dino", "cell_dino_compiled", "plain", *lightly]
    runs = {}
    for variant in variants:
        cmd = [
            sys.executable,
            __file__,
            "--variant",
            variant,
            "--steps",
            str(args.steps),
            "--global-size",
            str(args.global_size),
            "--local-size",
            str(args.local_size),
        ]
        runs[variant] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    print(
        json.dumps(
            {
                "benchmark": "train_step",
                "machine": platform.machine(),
                "torch": torch.__version__,
                "config": {
                    "arch": "vit_small",
                    "patch": 16,
                    "channels": 3,
                    "batch": BATCH,
                    "global": [2, args.global_size],
                    "local": [6, args.local_size],
                    "out_dim": OUT_DIM,
                },
                "runs": list(runs.values()),
                **{
                    f"{ours}_speedup_vs_{name}": runs[ours]["images_per_second"] / runs[name]["images_per_second"] if name in runs else None
                    for ours in ("cell_dino", "cell_dino_compiled")
                    for name in ("plain", "lightly", "lightly_same_precision", "lightly_pipeline")
                },
            }
        )
    )


if __name__ == "__main__":
    main()
