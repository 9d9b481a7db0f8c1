"""A tiny deterministic training run, as a script: for the resume and distributed tests.

python tiny_training.py RUN_DIR [--kill-at STEP] [--dump-teacher]   (also under torchrun)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
from pathlib import Path

import numpy as np
import torch

from cell_dino.data.channels import ChannelSpec, ChannelStats
from cell_dino.encoders.backbone import BackboneConfig
from cell_dino.train.augment import AugmentConfig, CropSpec
from cell_dino.train.head import HeadConfig
from cell_dino.train.optimiser import OptimConfig
from cell_dino.train.train_config import RuntimeConfig, TrainConfig
from cell_dino.train.trainer import train
from cell_dino.train.training_data import TrainingData

CONFIG = TrainConfig(
    backbone=BackboneConfig("vit_tiny", 8, 16, 0.1),
    head=HeadConfig(out_dim=128, hidden_dim=64, bottleneck_dim=32),
    optim=OptimConfig(epochs=3, batch_size=4, warmup_epochs=1),
    augment=AugmentConfig(global_crops=CropSpec(2, 16, (0.5, 1.0)), local_crops=CropSpec(2, 8, (0.2, 0.5))),
    runtime=RuntimeConfig(device="cpu", precision="fp32", seed=3),
)
IMAGES = np.random.default_rng(0).gamma(2.0, 100.0, (16, 3, 20, 20)).astype(np.float32)
CHANNELS = ["DNA", "Tubulin", "Actin"]
STATS = ChannelStats(CHANNELS, *([[v] * 3 for v in (0.0, 1.0, 0.0, 100.0, 400.0, 900.0)]), n_pixels=16 * 400)
DATA = TrainingData(IMAGES, ChannelSpec.of(CHANNELS), STATS, "cell")
# one epoch, each channel standardised by its data set's statistics (as the demo trains): bag-of-channels tests
ONE_EPOCH = dataclasses.replace(
    CONFIG, optim=dataclasses.replace(CONFIG.optim, epochs=1), augment=dataclasses.replace(CONFIG.augment, normalise="dataset")
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--dump-teacher", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)

    def on_step(step: int, teacher: torch.nn.Module) -> None:
        if step == args.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    train(DATA, CONFIG, args.run_dir, on_step=on_step)
    if args.dump_teacher:
        state = {k: v for k, v in torch.load(sorted(args.run_dir.glob("*.pt"))[-1], weights_only=True).items() if k != "optimizer"}
        rank = int(os.environ.get("RANK", "0"))
        torch.save({"center": state["center"], "world_size": state["meta"]["world_size"]}, args.run_dir / f"rank{rank}.pt")


if __name__ == "__main__":
    main()
