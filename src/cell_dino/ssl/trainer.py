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
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from cell_dino import __version__
from cell_dino.config import Count, NonNegative, NonNegativeInt, Positive, Probability, settings
from cell_dino.data.channels import ChannelSpec
from cell_dino.models.backbone import BackboneConfig, create_backbone
from cell_dino.models.head import DINOHead
from cell_dino.models.multicrop import MultiCropWrapper
from cell_dino.models.pretrained import load_rgb_weights
from cell_dino.reporting import peak_rss_mb
from cell_dino.ssl.augment import AugmentConfig, dataset_statistics, multicrop
from cell_dino.ssl.checkpoint import checkpoints_in, clear_checkpoints, latest_loadable, require_channels, save_checkpoint
from cell_dino.ssl.data import ChannelImages, EpochSampler, StoreImages
from cell_dino.runtime import Attention, Precision, attention_kernels, autocast, fused_optimiser, pick_device
from cell_dino.ssl.distributed import DistributedContext, barrier, init_distributed
from cell_dino.ssl.ema import update_teacher
from cell_dino.ssl.loss import DINOLoss
from cell_dino.ssl.schedules import cosine_schedule, teacher_temperature_schedule

log = logging.getLogger(__name__)


@settings
class DINOConfig:
    out_dim: Count = 65536
    hidden_dim: Count = 2048
    bottleneck_dim: Count = 256
    norm_last_layer: bool = True
    student_temp: Positive = 0.1
    teacher_temp: Positive = 0.04
    warmup_teacher_temp: Positive = 0.04
    warmup_teacher_temp_epochs: NonNegativeInt = 0
    center_momentum: Probability = 0.9


@settings
class OptimConfig:
    epochs: Count = 100
    batch_size: Count = 64  # per process
    lr: Positive = 5e-4  # at a total batch of 256; scaled linearly
    min_lr: NonNegative = 1e-6
    warmup_epochs: NonNegativeInt = 10
    weight_decay: NonNegative = 0.04
    weight_decay_end: NonNegative = 0.4
    momentum_teacher: Probability = 0.996
    clip_grad: NonNegative | None = 3.0  # per-parameter gradient norm bound; 0 or null: no clipping
    freeze_last_layer: NonNegativeInt = 1

    def __post_init__(self) -> None:
        if self.warmup_epochs > self.epochs:
            raise ValueError(f"optim.warmup_epochs {self.warmup_epochs} exceeds optim.epochs {self.epochs}")


@settings
class RuntimeConfig:
    device: str = "auto"
    precision: Precision = "auto"  # auto: bf16 where the device computes it natively, else fp32
    compile: bool = False
    num_workers: NonNegativeInt = 0
    seed: NonNegativeInt = 0
    checkpoint_every: Count = 1
    resume: Literal["auto", "never"] = "auto"  # never: an earlier run's checkpoints in the folder are removed first
    attention: Attention = "auto"  # auto: math kernel on CPU, fused elsewhere


@settings
class TrainConfig:
    """Everything a training run needs besides its data."""

    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    dino: DINOConfig = field(default_factory=DINOConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    init: str | None = None  # None: from scratch; a checkpoint path or timm:<name> of RGB DINO weights

    def __post_init__(self) -> None:
        patch = self.backbone.patch_size
        for name, spec in (("global_crops", self.augment.global_crops), ("local_crops", self.augment.local_crops)):
            if spec.size % patch:
                raise ValueError(f"augment.{name}.size {spec.size} is not a multiple of backbone.patch_size {patch}")

    def check(self, channels: ChannelSpec) -> None:
        """Fail before training on settings that do not fit the data's channels, naming the parameter."""
        if self.augment.rescale_channel is not None and self.augment.rescale_channel not in channels.names:
            raise ValueError(f"augment.rescale_channel {self.augment.rescale_channel!r} not in {list(channels.names)}")
        if self.augment.droppable_channels is not None:
            unknown = set(self.augment.droppable_channels) - set(channels.names)
            if unknown:
                raise ValueError(f"augment.droppable_channels {sorted(unknown)} not in {list(channels.names)}")


def build_models(config: TrainConfig, in_chans: int) -> tuple[MultiCropWrapper, MultiCropWrapper]:
    """Student (with drop-path) and teacher (without), starting from the same weights."""
    dino = config.dino
    student_backbone = create_backbone(config.backbone, in_chans)
    if config.init:
        load_rgb_weights(student_backbone, config.init)
    teacher_backbone = create_backbone(BackboneConfig(**{**asdict(config.backbone), "drop_path_rate": 0.0}), in_chans)
    dim = student_backbone.num_features
    student = MultiCropWrapper(student_backbone, DINOHead(dim, dino.out_dim, dino.hidden_dim, dino.bottleneck_dim, norm_last_layer=dino.norm_last_layer))
    teacher = MultiCropWrapper(teacher_backbone, DINOHead(dim, dino.out_dim, dino.hidden_dim, dino.bottleneck_dim))
    teacher.load_state_dict(student.state_dict())
    for p in teacher.parameters():
        p.requires_grad = False
    return student, teacher


def parameter_groups(model: nn.Module) -> list[dict[str, Any]]:
    """Weight decay on weights only: not on biases, norms, tokens or position embeddings."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 or name.endswith(".bias") or "token" in name or "pos_embed" in name else decay).append(p)
    return [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}]


@torch.no_grad()
def adamw(model: nn.Module, device: torch.device) -> torch.optim.AdamW:
    """AdamW over the parameter groups, with the fused kernel where the device has one."""
    return torch.optim.AdamW(parameter_groups(model), fused=fused_optimiser(device))


def clip_gradients(model: nn.Module, clip: float | None) -> None:
    """DINO's clipping: each parameter's gradient norm to at most ``clip``, separately; 0 or None
    leaves gradients as they are (WS-DINO trains without clipping)."""
    if not clip:
        return
    for p in model.parameters():
        if p.grad is not None:
            p.grad.mul_(torch.clamp(clip / (p.grad.norm() + 1e-6), max=1.0))


@dataclass
class Schedules:
    lr: np.ndarray
    weight_decay: np.ndarray
    momentum: np.ndarray
    teacher_temp: np.ndarray

    @classmethod
    def of(cls, config: TrainConfig, iterations_per_epoch: int, total_batch: int) -> Schedules:
        o, d = config.optim, config.dino
        lr = o.lr * total_batch / 256
        return cls(
            lr=cosine_schedule(lr, o.min_lr, o.epochs, iterations_per_epoch, o.warmup_epochs),
            weight_decay=cosine_schedule(o.weight_decay, o.weight_decay_end, o.epochs, iterations_per_epoch),
            momentum=cosine_schedule(o.momentum_teacher, 1.0, o.epochs, iterations_per_epoch),
            teacher_temp=teacher_temperature_schedule(d.warmup_teacher_temp, d.teacher_temp, d.warmup_teacher_temp_epochs, o.epochs),
        )


def collapse_metrics(student_out: torch.Tensor, teacher_out: torch.Tensor, center: torch.Tensor, config: DINOConfig, teacher_temp: float) -> tuple[float, float]:
    """Teacher entropy and KL(teacher || student) on the global crops: both near 0 mean collapse."""
    n_global = teacher_out.shape[0]
    p_teacher = F.softmax((teacher_out.float() - center) / teacher_temp, dim=-1)
    log_student = F.log_softmax(student_out[:n_global].float() / config.student_temp, dim=-1)
    entropy = -(p_teacher * torch.log(p_teacher + 1e-12)).sum(-1).mean()
    kl = (p_teacher * (torch.log(p_teacher + 1e-12) - log_student)).sum(-1).mean()
    return float(entropy), float(kl)


@dataclass
class TrainingData:
    """What the trainer reads: an image array, its channels and statistics, optional weak labels."""

    images: Any  # N x C x H x W, indexable (zarr array)
    channels: ChannelSpec
    stats: dict[str, Any]
    weak_labels: Any = None  # WeakLabelIndex for WS-DINO
    balanced: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def channel(self, name: str) -> TrainingData:
        """The same items with one channel only (one model per channel, as in WS-DINO)."""
        c = self.channels.names.index(name)
        per_channel = {k: [v[c]] if isinstance(v, list) and len(v) == len(self.channels) else v for k, v in self.stats.items()}
        return replace(self, images=ChannelImages(self.images, c), channels=ChannelSpec((name,)), stats=per_channel,
                       meta={**self.meta, "source_channels": list(self.channels.names)})  # fmt: skip


def train(
    data: TrainingData, config: TrainConfig, run_dir: Path,
    on_step: Callable[[int, nn.Module], None] | None = None,
    on_epoch: Callable[[int, nn.Module], None] | None = None,
) -> Path:  # fmt: skip
    """Train (or resume) in ``run_dir``; return the path of the last checkpoint.

    ``on_step(step, teacher)`` is called after every optimisation step (monitoring, tests),
    ``on_epoch(epoch, teacher)`` after every epoch's checkpoint (validation, pruning: an exception
    it raises stops training with that epoch saved).
    """
    config.check(data.channels)
    run_dir = Path(run_dir)
    rt = config.runtime
    context = init_distributed(pick_device(rt.device))
    device = pick_device(rt.device, context.local_rank)
    torch.manual_seed(rt.seed)  # the same initial weights on every rank and every run
    student, teacher = build_models(config, len(data.channels))
    student, teacher = student.to(device), teacher.to(device)
    loss_fn = DINOLoss(config.dino.out_dim, config.augment.global_crops.number, config.dino.student_temp, config.dino.center_momentum).to(device)
    optimizer = adamw(student, device)

    dataset = StoreImages(data.images, data.weak_labels, rt.seed)
    weights = data.weak_labels.balanced_weights() if data.balanced and data.weak_labels is not None else None
    sampler = EpochSampler(len(dataset), rt.seed, context.rank, context.world_size, weights)
    loader = DataLoader(dataset, batch_size=config.optim.batch_size, sampler=sampler, drop_last=True,
                        num_workers=rt.num_workers, pin_memory=device.type == "cuda", persistent_workers=rt.num_workers > 0)  # fmt: skip
    iterations = len(loader)
    if iterations == 0:
        raise ValueError(f"optim.batch_size {config.optim.batch_size} exceeds the {len(sampler)} items per process")
    schedules = Schedules.of(config, iterations, config.optim.batch_size * context.world_size)
    stats = None
    if config.augment.normalise == "dataset":
        stats = dataset_statistics(data.stats, device)

    start_epoch, history = 0, []
    if rt.resume == "never" and context.is_main:
        clear_checkpoints(run_dir)
    barrier(context)
    existing = latest_loadable(run_dir, device) if rt.resume == "auto" else None
    if existing is not None:
        path, state = existing
        require_channels(state["meta"], data.channels, str(path))
        require_same_model(state["meta"]["config"], config, path)
        student.load_state_dict(state["student"])
        teacher.load_state_dict(state["teacher"])
        optimizer.load_state_dict(state["optimizer"])
        loss_fn.center.copy_(state["center"])
        start_epoch, history = state["epoch"] + 1, list(state["history"])
        log.info("resumed from %s (epoch %d)", path, state["epoch"])

    model = DistributedDataParallel(student) if context.enabled else student
    step_fn = torch.compile(model) if rt.compile else model
    meta = _meta(config, data, context)
    for epoch in range(start_epoch, config.optim.epochs):
        sampler.set_epoch(epoch)
        dataset.set_epoch(epoch)
        totals = np.zeros(3)
        started = time.perf_counter()
        progress = tqdm(loader, desc=f"epoch {epoch}", unit="batch", disable=None if context.is_main else True, leave=False)
        for it, (images, partners) in enumerate(progress):
            step = epoch * iterations + it
            for i, group in enumerate(optimizer.param_groups):
                group["lr"] = float(schedules.lr[step])
                if i == 0:
                    group["weight_decay"] = float(schedules.weight_decay[step])
            torch.manual_seed(rt.seed * 1_000_003 + step * 7919 + context.rank)  # drop-path
            generator = torch.Generator(device).manual_seed(rt.seed * 1_000_003 + step * 7919 + context.rank)
            images, partners = images.to(device, non_blocking=True), partners.to(device, non_blocking=True)
            crops = multicrop(images, partners, config.augment, data.channels.names, generator, stats)
            with autocast(device, rt.precision), attention_kernels(device, rt.attention):
                teacher_out = teacher(crops[: config.augment.global_crops.number])
                student_out = step_fn(crops)
            temperature = float(schedules.teacher_temp[epoch])
            entropy, kl = collapse_metrics(student_out.detach(), teacher_out, loss_fn.center, config.dino, temperature)
            loss = loss_fn(student_out, teacher_out, temperature)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss is {loss.item()} at epoch {epoch}, step {step}: lower optim.lr or check the data")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip_gradients(student, config.optim.clip_grad)
            if epoch < config.optim.freeze_last_layer:
                for p in student.head.last_layer.parameters():
                    p.grad = None
            optimizer.step()
            update_teacher(student, teacher, float(schedules.momentum[step]))
            totals += (loss.item(), entropy, kl)
            progress.set_postfix(loss=f"{loss.item():.3f}", lr=f"{schedules.lr[step]:.2e}")
            if on_step is not None:
                on_step(step, teacher)
        seconds = time.perf_counter() - started
        history.append({
            "epoch": epoch, "loss": float(totals[0] / iterations), "teacher_entropy": float(totals[1] / iterations),
            "kl_teacher_student": float(totals[2] / iterations), "lr": float(schedules.lr[step]),
            "images_per_second": iterations * config.optim.batch_size * context.world_size / seconds,
            "seconds": seconds, "peak_rss_mb": peak_rss_mb(),
            "peak_gpu_mb": torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else 0.0,
        })  # fmt: skip
        log.info("epoch %d: %s", epoch, {k: round(v, 4) for k, v in history[-1].items()})
        if context.is_main and ((epoch + 1) % rt.checkpoint_every == 0 or epoch + 1 == config.optim.epochs):
            state = {"student": student.state_dict(), "teacher": teacher.state_dict(), "optimizer": optimizer.state_dict(),
                     "center": loss_fn.center, "epoch": epoch, "step": step, "history": history, "meta": meta}  # fmt: skip
            save_checkpoint(state, run_dir)
        barrier(context)
        if on_epoch is not None:
            on_epoch(epoch, teacher)
    barrier(context)
    written = checkpoints_in(run_dir)
    if not written:
        raise RuntimeError(f"no checkpoint in {run_dir}: optim.epochs is {config.optim.epochs}")
    return written[-1]


def require_same_model(saved: dict[str, Any], config: TrainConfig, source: Path) -> None:
    """Resuming needs the architecture and head the checkpoint was trained with."""
    current = _plain(asdict(config))
    differing = [f"{part}.{key}: {saved[part].get(key)!r} -> {value!r}" for part in ("backbone", "dino")
                 for key, value in current[part].items() if saved[part].get(key) != value]  # fmt: skip
    if differing:
        raise ValueError(f"cannot resume from {source}: the model parameters changed ({'; '.join(differing)}); "
                         "use runtime.resume: never, or clear the run folder")  # fmt: skip


def _meta(config: TrainConfig, data: TrainingData, context: DistributedContext) -> dict[str, Any]:
    return {
        "architecture": config.backbone.arch, "patch_size": config.backbone.patch_size,
        "crop_sizes": [config.augment.global_crops.size, config.augment.local_crops.size],
        "channels": list(data.channels.names), "stats": data.stats, "config": _plain(asdict(config)),
        "world_size": context.world_size, "version": __version__, "torch": str(torch.__version__), **data.meta,
    }  # fmt: skip


def _plain(value: Any) -> Any:
    """Containers of str/int/float/bool/None only, as ``weights_only`` loading requires."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
