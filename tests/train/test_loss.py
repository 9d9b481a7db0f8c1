"""The DINO loss against a straightforward per-sample computation in NumPy."""

import numpy as np
import torch

from cell_dino.train.loss import DINOLoss


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def reference_loss(student: np.ndarray, teacher: np.ndarray, center: np.ndarray, t_s: float, t_t: float) -> float:
    """student: crops x batch x dim, teacher: 2 x batch x dim."""
    terms = []
    for t in range(teacher.shape[0]):
        for s in range(student.shape[0]):
            if s == t:
                continue
            for b in range(student.shape[1]):
                p = softmax((teacher[t, b] - center) / t_t)
                logq = np.log(softmax(student[s, b] / t_s))
                terms.append((t, s, -(p * logq).sum()))
    per_pair = {}
    for t, s, value in terms:
        per_pair.setdefault((t, s), []).append(value)
    return float(np.mean([np.mean(v) for v in per_pair.values()]))


def test_loss_matches_reference_and_updates_the_centre() -> None:
    rng = np.random.default_rng(0)
    crops, batch, dim = 6, 4, 32
    student = rng.normal(size=(crops, batch, dim))
    teacher = rng.normal(size=(2, batch, dim))
    loss_fn = DINOLoss(dim, student_temp=0.1, center_momentum=0.9)
    loss_fn.center.copy_(torch.tensor(rng.normal(size=(1, dim)) * 0.1))
    center = loss_fn.center.numpy().copy()
    got = loss_fn(torch.tensor(student.reshape(-1, dim)), torch.tensor(teacher.reshape(-1, dim)), teacher_temp=0.04)
    assert np.isclose(got.loss.item(), reference_loss(student, teacher, center[0], 0.1, 0.04), rtol=1e-5)
    p = softmax((teacher - center[0]) / 0.04)  # 2 x batch x dim
    q = softmax(student[:2] / 0.1)
    assert np.isclose(got.teacher_entropy.item(), -(p * np.log(p)).sum(-1).mean(), rtol=1e-5)
    assert np.isclose(got.kl.item(), (p * (np.log(p) - np.log(q))).sum(-1).mean(), rtol=1e-4)
    expected_center = 0.9 * center + 0.1 * teacher.reshape(-1, dim).mean(axis=0, keepdims=True)
    np.testing.assert_allclose(loss_fn.center.numpy(), expected_center, rtol=1e-5)


def test_gradient_flows_to_the_student_only() -> None:
    student = torch.randn(8, 16, requires_grad=True)
    teacher = torch.randn(4, 16, requires_grad=True)
    DINOLoss(16)(student, teacher, 0.04).loss.backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None
