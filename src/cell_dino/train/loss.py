"""The DINO loss (Caron et al. 2021): cross-entropy between the centred, sharpened teacher
distribution on the global crops and the student distribution on every other crop; the centre
follows an EMA of the teacher outputs, all-reduced across processes. From the same tensors it
reports the teacher's entropy and KL(teacher || student) on the global crops: both near 0 mean
collapse."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from cell_dino.core.config import NonNegativeInt, Positive, Probability, settings


@settings
class LossConfig:
    """Temperatures and centring (DINO's defaults); they may change when a run is resumed."""

    student_temp: Positive = 0.1
    teacher_temp: Positive = 0.04
    warmup_teacher_temp: Positive = 0.04
    warmup_teacher_temp_epochs: NonNegativeInt = 0
    center_momentum: Probability = 0.9


@dataclass(frozen=True)
class LossOutput:
    loss: torch.Tensor
    teacher_entropy: torch.Tensor  # nats, mean over teacher crops
    kl: torch.Tensor  # KL(teacher || student) on the global crops, mean


class DINOLoss(nn.Module):
    def __init__(self, out_dim: int, n_global: int = 2, student_temp: float = 0.1, center_momentum: float = 0.9) -> None:
        super().__init__()
        self.n_global = n_global
        self.student_temp = student_temp
        self.center_momentum = center_momentum
        self.register_buffer("center", torch.zeros(1, out_dim))

    @classmethod
    def of(cls, config: LossConfig, out_dim: int, n_global: int) -> DINOLoss:
        return cls(out_dim, n_global, config.student_temp, config.center_momentum)

    def forward(self, student_out: torch.Tensor, teacher_out: torch.Tensor, teacher_temp: float) -> LossOutput:
        """``student_out``: all crops (global first) x batch, ``teacher_out``: global crops x batch."""
        batch = teacher_out.shape[0] // self.n_global
        n_crops = student_out.shape[0] // batch
        student_logp = F.log_softmax(student_out.float() / self.student_temp, dim=-1).view(n_crops, batch, -1)
        teacher_logits = ((teacher_out.float() - self.center) / teacher_temp).detach()
        # softmax, not exp(log_softmax): the same bits (and gradients) as DINO's loss always gave
        teacher_p = F.softmax(teacher_logits, dim=-1).view(self.n_global, batch, -1)
        teacher_logp = F.log_softmax(teacher_logits, dim=-1).view(self.n_global, batch, -1)  # for the entropy and KL only
        cross_entropy = -torch.einsum("tbk,sbk->ts", teacher_p, student_logp) / batch  # teacher crop x student crop
        other_view = ~torch.eye(self.n_global, n_crops, dtype=torch.bool, device=cross_entropy.device)
        entropy = -(teacher_p * teacher_logp).sum(-1).mean()
        kl = (teacher_p * (teacher_logp - student_logp[: self.n_global].detach())).sum(-1).mean()
        self.update_center(teacher_out)
        return LossOutput(cross_entropy[other_view].mean(), entropy, kl)

    @torch.no_grad()
    def update_center(self, teacher_out: torch.Tensor) -> None:
        batch_center = teacher_out.float().sum(dim=0, keepdim=True)
        count = torch.tensor(float(teacher_out.shape[0]), device=teacher_out.device)
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(batch_center)
            dist.all_reduce(count)
        self.center.mul_(self.center_momentum).add_(batch_center / count, alpha=1 - self.center_momentum)
