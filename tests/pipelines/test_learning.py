"""The learning test: a short DINO training on the test phantom's cells raises the teacher's
k-NN MoA accuracy (leaving out the query's compound) clearly above the same network at random init.

Settings for two CPU minutes (760 steps): a 4-block ViT-tiny/8 on 32 px crops, batch 16, a small
head (out_dim 256), a sharp teacher (0.01: at 0.04 such short runs collapse to the uniform
distribution), teacher momentum 0.99, data-set normalisation. Evaluated like the embed pipeline: crops prepared as in
training, CLS features, cosine k-NN over treated cells, the query's compound left out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from cell_dino.data.channels import ChannelStats
from cell_dino.data.crop_store import CropStore
from cell_dino.embed.model import FeatureConfig, checkpoint_extractor
from cell_dino.encoders.backbone import BackboneConfig
from cell_dino.evaluate.knn import knn_accuracy
from cell_dino.train.augment import AugmentConfig, CropSpec
from cell_dino.train.head import HeadConfig
from cell_dino.train.loss import LossConfig
from cell_dino.train.optimiser import OptimConfig
from cell_dino.train.train_config import RuntimeConfig, TrainConfig
from cell_dino.train.trainer import train
from cell_dino.train.training_data import TrainingData

LEARNING = TrainConfig(
    backbone=BackboneConfig(arch="vit_tiny", patch_size=8, img_size=32, drop_path_rate=0.1, depth=4),
    head=HeadConfig(out_dim=256, hidden_dim=512, bottleneck_dim=128),
    loss=LossConfig(teacher_temp=0.01, warmup_teacher_temp=0.01),
    optim=OptimConfig(epochs=20, batch_size=16, lr=4e-3, warmup_epochs=2, momentum_teacher=0.99),
    augment=AugmentConfig(global_crops=CropSpec(2, 32, (0.5, 1.0)), local_crops=CropSpec(4, 16, (0.15, 0.5)), normalise="dataset"),
    # fp32 on every CPU: precision auto trains in bf16 where AMX has it, and these settings were tuned in fp32
    runtime=RuntimeConfig(seed=0, checkpoint_every=20, resume="never", precision="fp32"),
)
K = (1, 5, 11)


def test_short_dino_training_beats_random_init_on_moa_knn(segmented_data: Path, tmp_path: Path) -> None:
    store = CropStore(segmented_data / "03_primary/crop_store.zarr")
    table = store.table()
    checkpoint = train(TrainingData(store.crops, store.channels, ChannelStats.from_dict(store.stats), "cell"), LEARNING, tmp_path / "run")
    state = torch.load(checkpoint, weights_only=True)
    treated = (table["Metadata_MoA"] != "DMSO").to_numpy()
    images = torch.from_numpy(np.asarray(store.crops[:], dtype=np.float32)[treated])
    labels, compounds = table["Metadata_MoA"].to_numpy()[treated], table["Metadata_Compound"].to_numpy()[treated]

    def accuracy(random_init: bool) -> np.ndarray:
        features = checkpoint_extractor(state, FeatureConfig(), random_init=random_init)(images).numpy()
        return np.array([knn_accuracy(features, labels, compounds, k) for k in K])

    trained, random = accuracy(False), accuracy(True)
    print(f"k-NN MoA accuracy (k={K}), trained {trained.round(3)}, random init {random.round(3)}")
    assert trained.mean() > random.mean() + 0.03, (trained, random)
    assert (trained > random).all(), (trained, random)
    assert state["history"][-1]["teacher_entropy"] < 0.5 * np.log(256)  # not the uniform collapse
