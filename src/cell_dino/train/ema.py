"""The EMA teacher."""

from __future__ import annotations

import torch
import torch.nn as nn


@torch.no_grad()
def update_teacher(student: nn.Module, teacher: nn.Module, momentum: float) -> None:
    """``teacher = momentum * teacher + (1 - momentum) * student``, parameter by parameter."""
    student_params = [p.detach() for p in student.parameters()]
    teacher_params = list(teacher.parameters())
    torch._foreach_mul_(teacher_params, momentum)
    torch._foreach_add_(teacher_params, student_params, alpha=1.0 - momentum)
