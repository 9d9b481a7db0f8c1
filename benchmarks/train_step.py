"""One DINO training step, three ways, side by side in one run (one JSON line):

- ``cell_dino``: this trainer's step: on-device multi-crop augmentation, bf16 autocast, the
  attention kernel the trainer picks (math on CPU, fused on GPU), one backbone pass per crop
  resolution, DINO loss, AdamW, EMA teacher;
- ``plain``: the same step written plainly: fp32, eager, no fused attention, no autocast;
- ``lightly``: lightly's ``DINOProjectionHead`` and ``DINOLoss`` on the same timm backbone (if installed).

Fixed configuration: ViT-S/16, 3 channels, batch 32, 2 global crops of 96 px, 6 local crops of
48 px, out_dim 65,536. Each variant runs in a fresh process (its own peak memory).

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

import timm
import torch
import torch.nn as nn

from cell_dino.models.backbone import BackboneConfig, create_backbone
from cell_dino.models.head import DINOHead
from cell_dino.models.multicrop import MultiCropWrapper
from cell_dino.reporting import peak_rss_mb
from cell_dino.runtime import attention_kernels, peak_gpu_mb
from cell_dino.ssl.augment import AugmentConfig, CropSpec, multicrop
from cell_dino.ssl.ema import update_teacher
from cell_dino.ssl.loss import DINOLoss
from cell_dino.ssl.optimiser import adamw, clip_gradients, parameter_groups

CHANNELS = ("DNA", "Tubulin", "Actin")
BATCH, OUT_DIM = 32, 65536


def models(variant: str, device: torch.device) -> tuple[nn.Module, nn.Module, nn.Module]:
    timm.layers.set_fused_attn(variant != "plain")
    config = BackboneConfig("vit_small", 16, 224, 0.1)
    backbones = [create_backbone(config, len(CHANNELS)) for _ in range(2)]
    if variant == "lightly":
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


def step_fn(variant: str, student, teacher, loss_fn, optimizer, images, generator, augment, device):
    crops = multicrop(images, images, augment, CHANNELS, generator)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if variant == "cell_dino" else contextlib.nullcontext()
    kernels = attention_kernels(device, "auto") if variant == "cell_dino" else contextlib.nullcontext()
    with autocast, kernels:
        with torch.no_grad():
            teacher_out = teacher(crops[:2])
        student_out = student(crops)
    if variant == "lightly":
        loss = loss_fn(list(teacher_out.float().chunk(2)), list(student_out.float().chunk(len(crops))), teacher_temp=0.04)
    else:
        loss = loss_fn(student_out, teacher_out, 0.04)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    clip_gradients(student, 3.0)
    optimizer.step()
    update_teacher(student, teacher, 0.996)


def measure(variant: str, steps: int, global_size: int, local_size: int) -> dict:
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    student, teacher, loss_fn = models(variant, device)
    optimizer = adamw(student, device) if variant == "cell_dino" else torch.optim.AdamW(parameter_groups(student))
    augment = AugmentConfig(global_crops=CropSpec(2, global_size, (0.4, 1.0)), local_crops=CropSpec(6, local_size, (0.05, 0.4)))
    images = torch.rand(BATCH, len(CHANNELS), 2 * global_size, 2 * global_size, device=device) * 1000
    generator = torch.Generator(device).manual_seed(0)
    for _ in range(2):
        step_fn(variant, student, teacher, loss_fn, optimizer, images, generator, augment, device)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        step_fn(variant, student, teacher, loss_fn, optimizer, images, generator, augment, device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / steps
    return {
        "variant": variant,
        "device": device.type,
        "seconds_per_step": seconds,
        "images_per_second": BATCH / seconds,
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
    variants = ["cell_dino", "plain"] + (["lightly"] if importlib.util.find_spec("lightly") else [])
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
                "speedup_vs_plain": runs["cell_dino"]["images_per_second"] / runs["plain"]["images_per_second"],
                "speedup_vs_lightly": runs["cell_dino"]["images_per_second"] / runs["lightly"]["images_per_second"]
                if "lightly" in runs
                else None,
            }
        )
    )


if __name__ == "__main__":
    main()
