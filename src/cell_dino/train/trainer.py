"""The DINO / WS-DINO training loop (Caron et al. 2021; Cross-Zamirski et al. 2022), read top to bottom.

Student and EMA teacher are multi-crop ViTs; the teacher sees the global crops, the student all
crops. Learning rate, weight decay and teacher momentum follow precomputed per-iteration
schedules. Every step is reproducible from (seed, step), so a run resumed from a checkpoint
continues exactly as an uninterrupted run would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from cell_dino.core.reporting import peak_rss_mb
from cell_dino.core.runtime import attention_kernels, autocast, peak_gpu_mb, pick_device
from cell_dino.encoders.encoder import ENTRY
from cell_dino.encoders.preprocessing import dataset_statistics
from cell_dino.train.augment import multicrop
from cell_dino.train.checkpoint import (
    CheckpointMeta,
    clear_checkpoints,
    last_checkpoint,
    latest_loadable,
    plain,
    same_data,
    save_checkpoint,
)
from cell_dino.train.distributed import DistributedContext, barrier, init_distributed
from cell_dino.train.ema import update_teacher
from cell_dino.train.health import epoch_health, probe_batch, probe_features
from cell_dino.train.loader import epoch_loader
from cell_dino.train.loss import DINOLoss
from cell_dino.train.multicrop import student_and_teacher
from cell_dino.train.optimiser import adamw, cancel_last_layer_gradients, clip_gradients, set_step_values
from cell_dino.train.schedules import Schedules
from cell_dino.train.train_config import TrainConfig
from cell_dino.train.training_data import TrainingData

log = logging.getLogger(__name__)
Hook = Callable[[int, nn.Module], None]


@dataclass
class Training:
    """What a step changes (the two networks, the loss's centre, the optimiser) and where it runs."""

    student: nn.Module
    teacher: nn.Module
    loss: DINOLoss
    optimizer: torch.optim.Optimizer
    context: DistributedContext
    device: torch.device
    channels: tuple[str, ...]
    stats: tuple[torch.Tensor, torch.Tensor] | None  # the dataset's channel statistics (augment.normalise: dataset)
    forward: nn.Module | None = None  # the student as called: plain, DDP-wrapped or compiled

    def checkpoint(self, epoch: int, step: int, history: list[dict], meta: CheckpointMeta) -> dict:
        models = {"student": self.student.state_dict(), "teacher": self.teacher.state_dict(), "optimizer": self.optimizer.state_dict()}
        return {
            **models, "center": self.loss.center, "epoch": epoch, "step": step, "history": history, "meta": meta.to_dict(),
            ENTRY: meta.encoder_entry(),  # what embed reads, whatever the method: the teacher's backbone
        }


def train(data: TrainingData, config: TrainConfig, run_dir: Path, on_step: Hook | None = None, on_epoch: Hook | None = None) -> Path:
    """Train (or resume) in ``run_dir``; return the path of the last checkpoint.

    ``on_step(step, teacher)`` is called after every optimisation step (monitoring, tests),
    ``on_epoch(epoch, teacher)`` after every epoch's checkpoint (validation, pruning: an exception
    it raises stops training with that epoch saved).
    """
    # ============ process group, device, models, loss, optimiser ============
    config.check(data.channels)
    rt, run_dir = config.runtime, Path(run_dir)
    context = init_distributed(pick_device(rt.device))
    device = pick_device(rt.device, context.local_rank)
    torch.manual_seed(rt.seed)  # the same initial weights on every rank and every run
    student, teacher = (m.to(device) for m in student_and_teacher(config.backbone, config.head, len(data.channels), config.init))
    loss = DINOLoss.of(config.loss, config.head.out_dim, config.augment.global_crops.number).to(device)
    stats = dataset_statistics(data.stats.as_dict(), device) if config.augment.normalise == "dataset" else None
    state = Training(student, teacher, loss, adamw(student, device), context, device, tuple(data.channels.names), stats)

    # ============ data: a reproducible order per epoch, split across processes ============
    dataset, sampler, loader = epoch_loader(data, config.optim.batch_size, rt.seed, rt.num_workers, context, device, rt.in_memory_mb)
    schedules = Schedules.of(config.optim, config.loss, len(loader), config.optim.batch_size * context.world_size)

    # ============ resume, then train epoch by epoch ============
    start_epoch, history = resume(run_dir, state, data, config)
    state.forward = DistributedDataParallel(student) if context.enabled else student
    state.forward = torch.compile(state.forward) if rt.compile else state.forward
    meta = CheckpointMeta.of(config, data, context.world_size)
    if start_epoch < config.optim.epochs:  # the health monitors' fixed probe (not made for a finished run)
        probe = probe_batch(dataset.images, data.n_items, config.health, config.augment.global_crops.size, config.augment.normalise, stats)
    for epoch in range(start_epoch, config.optim.epochs):
        sampler.set_epoch(epoch)
        dataset.set_epoch(epoch)
        record = train_one_epoch(state, loader, schedules, epoch, config, on_step)
        record.update(
            epoch_health(record["teacher_entropy"], config.head.out_dim, probe_features(teacher.backbone, probe.to(device)), config.health)
        )
        history.append(record)
        log.info("epoch %d: %s", epoch, {k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()})
        if record["collapse"] and context.is_main:
            log.warning(
                "%s, epoch %d: %s; a run that collapsed learns nothing (see the README's training health)",
                run_dir,
                epoch,
                record["collapse"],
            )
        if context.is_main and ((epoch + 1) % rt.checkpoint_every == 0 or epoch + 1 == config.optim.epochs):
            save_checkpoint(state.checkpoint(epoch, (epoch + 1) * len(loader) - 1, history, meta), run_dir)
        barrier(context)
        if on_epoch is not None:
            on_epoch(epoch, teacher)
    barrier(context)
    return last_checkpoint(run_dir)


def train_one_epoch(
    state: Training, loader: DataLoader, s: Schedules, epoch: int, config: TrainConfig, on_step: Hook | None
) -> dict[str, float]:
    """One pass over the loader; returns the epoch's mean loss, teacher entropy and KL, speed, memory
    (the caller adds the epoch's health, :mod:`cell_dino.train.health`)."""
    rt, context, device = config.runtime, state.context, state.device
    totals, started, iterations = np.zeros(3), time.perf_counter(), len(loader)
    progress = tqdm(loader, desc=f"epoch {epoch}", unit="batch", disable=None if context.is_main else True, leave=False)
    for it, (images, partners) in enumerate(progress):
        step = epoch * iterations + it
        set_step_values(state.optimizer, float(s.lr[step]), float(s.weight_decay[step]))
        torch.manual_seed(rt.seed * 1_000_003 + step * 7919 + context.rank)  # drop-path
        generator = torch.Generator(device).manual_seed(rt.seed * 1_000_003 + step * 7919 + context.rank)
        images, partners = images.to(device, non_blocking=True), partners.to(device, non_blocking=True)
        crops = multicrop(images, partners, config.augment, state.channels, generator, state.stats)
        with autocast(device, rt.precision), attention_kernels(device, rt.attention):
            teacher_out = state.teacher(crops[: config.augment.global_crops.number])
            student_out = state.forward(crops)
        out = state.loss(student_out, teacher_out, float(s.teacher_temp[epoch]))
        if not torch.isfinite(out.loss):
            raise FloatingPointError(f"loss is {out.loss.item()} at epoch {epoch}, step {step}: lower optim.lr or check the data")
        state.optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        clip_gradients(state.student, config.optim.clip_grad)
        cancel_last_layer_gradients(state.student, epoch, config.optim.freeze_last_layer)
        state.optimizer.step()
        update_teacher(state.student, state.teacher, float(s.momentum[step]))
        totals += (out.loss.item(), out.teacher_entropy.item(), out.kl.item())
        progress.set_postfix(loss=f"{out.loss.item():.3f}", lr=f"{s.lr[step]:.2e}")
        if on_step is not None:
            on_step(step, state.teacher)
    seconds = time.perf_counter() - started
    means = dict(zip(("loss", "teacher_entropy", "kl_teacher_student"), (totals / iterations).tolist()))  # floats: weights_only loads them
    speed = iterations * config.optim.batch_size * context.world_size / seconds
    memory = {"peak_rss_mb": peak_rss_mb(), "peak_gpu_mb": peak_gpu_mb(device)}
    return {"epoch": epoch, **means, "lr": float(s.lr[step]), "images_per_second": speed, "seconds": seconds, **memory}


def resume(run_dir: Path, state: Training, data: TrainingData, config: TrainConfig) -> tuple[int, list[dict]]:
    """Load the newest readable checkpoint of ``run_dir`` into the models (``resume: auto``), or
    clear the folder (``never``, or checkpoints of other data); returns the epoch to start from and
    the history so far."""
    found = latest_loadable(run_dir, state.device) if config.runtime.resume == "auto" else None
    why = "runtime.resume is 'never'" if config.runtime.resume == "never" else "no checkpoint to resume from"
    if found is not None and not same_data(found[1], data.generation, run_dir):
        found, why = None, "trained on other data"
    if found is None and state.context.is_main:
        clear_checkpoints(run_dir, why)
    barrier(state.context)
    if found is None:
        return 0, []
    path, saved = found
    meta = CheckpointMeta.from_dict(saved["meta"])
    meta.require_channels(data.channels, str(path))
    meta.require_same_model(config.backbone, config.head, path)
    meta.warn_if_complete_with_other_settings(path, saved["epoch"], plain(asdict(config)))
    state.student.load_state_dict(saved["student"])
    state.teacher.load_state_dict(saved["teacher"])
    state.optimizer.load_state_dict(saved["optimizer"])
    state.loss.center.copy_(saved["center"])
    log.info("resumed from %s (epoch %d)", path, saved["epoch"])
    return saved["epoch"] + 1, list(saved["history"])
