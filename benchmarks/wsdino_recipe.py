"""WS-DINO's published recipe on this machine (one JSON line): one training step of one channel
model (ViT-S/8, 2 x 224 + 8 x 96 flip-only crops of 640 x 512 fields, batch 16, out_dim 65,536,
AdamW without weight decay or clipping, EMA teacher), with the trainer's runtime choices (precision
auto, attention kernels), and the compute of the paper's 200 epochs: three channel models over
the MoA-annotated BBBC021 fields (counted from the real image table when ``--bbbc021`` is given).

    python benchmarks/wsdino_recipe.py [--steps 5] [--bbbc021 ../shared/data/bbbc021] [--batch 16]

On a CPU the attention of 785 tokens per global crop is materialised (no fused kernel): the
recipe's batch of 16 needs about 22 GB; ``--batch 2`` measures the same step in about 3 GB.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from cell_dino.core.reporting import peak_rss_mb
from cell_dino.core.runtime import attention_kernels, autocast, peak_gpu_mb, pick_device, resolved_precision
from cell_dino.pipelines.params import load_parameters
from cell_dino.pipelines.train_dino.params import TrainingParams
from cell_dino.train.augment import multicrop
from cell_dino.train.ema import update_teacher
from cell_dino.train.loss import DINOLoss
from cell_dino.train.multicrop import student_and_teacher
from cell_dino.train.optimiser import adamw

PROJECT = Path(__file__).resolve().parents[1]
FIELD = (512, 640)
CHANNEL_MODELS = 3
LABELLED_FIELDS = 3848  # BBBC021 fields whose treatment has an MoA (DMSO included), when no table is given


def labelled_fields(root: Path | None) -> int:
    if root is None:
        return LABELLED_FIELDS
    from cell_dino.data.adapters.bbbc021 import read_bbbc021

    return int(read_bbbc021(root)["Metadata_MoA"].notna().sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--bbbc021", type=Path, default=None, help="a folder with BBBC021_v1_image.csv(.gz) and BBBC021_v1_moa.csv")
    parser.add_argument("--batch", type=int, default=None, help="images per step (default: the recipe's 16)")
    args = parser.parse_args()
    config = load_parameters("train_wsdino", TrainingParams, PROJECT, "bbbc021", runtime_params={"root": "unused"}).train
    device = pick_device(config.runtime.device)
    torch.manual_seed(0)
    student, teacher = (m.to(device) for m in student_and_teacher(config.backbone, config.head, 1))
    loss_fn = DINOLoss.of(config.loss, config.head.out_dim, config.augment.global_crops.number).to(device)
    optimizer = adamw(student, device)
    for group in optimizer.param_groups:
        group["lr"], group["weight_decay"] = 4e-6, 0.0
    batch = args.batch or config.optim.batch_size
    fields = torch.randn(batch, 1, *FIELD, device=device)
    generator = torch.Generator(device).manual_seed(0)

    def step() -> None:
        crops = multicrop(fields, fields, config.augment, ("DNA",), generator)
        with autocast(device, config.runtime.precision), attention_kernels(device, config.runtime.attention):
            with torch.no_grad():
                teacher_out = teacher(crops[: config.augment.global_crops.number])
            student_out = student(crops)
        loss = loss_fn(student_out, teacher_out, config.loss.teacher_temp).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        update_teacher(student, teacher, config.optim.momentum_teacher)

    step()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / args.steps
    n_fields = labelled_fields(args.bbbc021)
    epoch_hours = CHANNEL_MODELS * n_fields / (batch / seconds) / 3600
    print(
        json.dumps(
            {
                "benchmark": "wsdino_recipe",
                "machine": platform.machine(),
                "device": torch.cuda.get_device_name() if device.type == "cuda" else device.type,
                "torch": torch.__version__,
                "precision": resolved_precision(config.runtime.precision, device),
                "config": {
                    "arch": config.backbone.arch,
                    "patch": config.backbone.patch_size,
                    "batch": batch,
                    "field": list(FIELD),
                    "global": [config.augment.global_crops.number, config.augment.global_crops.size],
                    "local": [config.augment.local_crops.number, config.augment.local_crops.size],
                    "out_dim": config.head.out_dim,
                },
                "seconds_per_step": seconds,
                "images_per_second": batch / seconds,
                "peak_rss_mb": peak_rss_mb(),
                "peak_gpu_mb": peak_gpu_mb(device),
                "fields": n_fields,
                "hours_per_epoch_3_channel_models": epoch_hours,
                "hours_200_epochs": 200 * epoch_hours,
            }
        )
    )


if __name__ == "__main__":
    main()
