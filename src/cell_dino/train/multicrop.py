"""The multi-crop wrapper (a backbone once per crop resolution, then the head once on all crops)
and DINO's student-teacher pair built from it."""

from __future__ import annotations

import dataclasses

import torch
import torch.nn as nn

from cell_dino.encoders.backbone import BackboneConfig, create_backbone
from cell_dino.encoders.pretrained import load_rgb_weights
from cell_dino.train.head import DINOHead, HeadConfig


class MultiCropWrapper(nn.Module):
    """``forward(crops)`` takes a list of ``B x C x H x W`` batches (global crops first) and returns
    the head outputs of all of them concatenated along the batch axis, in the same order."""

    def __init__(self, backbone: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, crops: list[torch.Tensor]) -> torch.Tensor:
        sizes = torch.tensor([c.shape[-1] for c in crops])
        ends = torch.cumsum(torch.unique_consecutive(sizes, return_counts=True)[1], 0).tolist()
        features, start = [], 0
        for end in ends:
            features.append(self.backbone(torch.cat(crops[start:end])))
            start = end
        return self.head(torch.cat(features))


def student_and_teacher(
    backbone: BackboneConfig, head: HeadConfig, in_chans: int, init: str | None = None
) -> tuple[MultiCropWrapper, MultiCropWrapper]:
    """DINO's pair: the student (with drop-path; from ``init`` RGB weights if given) and the teacher
    (no drop-path, no gradients), starting from the same weights."""
    student_backbone = create_backbone(backbone, in_chans)
    if init:
        load_rgb_weights(student_backbone, init)
    teacher_backbone = create_backbone(dataclasses.replace(backbone, drop_path_rate=0.0), in_chans)
    dim = student_backbone.num_features
    student = MultiCropWrapper(student_backbone, DINOHead.of(dim, head, student=True))
    teacher = MultiCropWrapper(teacher_backbone, DINOHead.of(dim, head, student=False))
    teacher.load_state_dict(student.state_dict())
    for p in teacher.parameters():
        p.requires_grad = False
    return student, teacher
