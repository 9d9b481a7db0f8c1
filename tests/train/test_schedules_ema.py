import numpy as np
import torch
import torch.nn as nn

from cell_dino.train.ema import update_teacher
from cell_dino.train.schedules import cosine_schedule, teacher_temperature_schedule


def test_cosine_schedule_warmup_then_cosine() -> None:
    schedule = cosine_schedule(1.0, 0.1, epochs=10, iterations_per_epoch=5, warmup_epochs=2, warmup_start=0.0)
    assert schedule.shape == (50,)
    np.testing.assert_allclose(schedule[:10], np.arange(10) / 10)  # linear from 0 towards 1
    assert schedule[10] == 1.0
    middle = 10 + 20
    assert np.isclose(schedule[middle], 0.1 + 0.5 * 0.9 * (1 + np.cos(np.pi * 20 / 40)))
    assert schedule[-1] > 0.1 and np.all(np.diff(schedule[10:]) <= 0)


def test_teacher_momentum_and_weight_decay_ranges() -> None:
    momentum = cosine_schedule(0.996, 1.0, 4, 3)
    assert momentum[0] == 0.996 and np.all(np.diff(momentum) >= 0) and momentum[-1] < 1.0
    np.testing.assert_allclose(teacher_temperature_schedule(0.04, 0.07, 3, 5), [0.04, 0.055, 0.07, 0.07, 0.07])


def test_ema_update_formula() -> None:
    student, teacher = nn.Linear(3, 2), nn.Linear(3, 2)
    before = [p.detach().clone() for p in teacher.parameters()]
    update_teacher(student, teacher, 0.9)
    for b, s, t in zip(before, student.parameters(), teacher.parameters()):
        torch.testing.assert_close(t, 0.9 * b + 0.1 * s.detach())


def test_gradients_are_clipped_per_parameter() -> None:
    from cell_dino.train.optimiser import clip_gradients

    model = nn.Linear(2, 2)
    model.weight.grad = torch.full((2, 2), 10.0)  # norm 20
    model.bias.grad = torch.tensor([0.3, 0.4])  # norm 0.5
    clip_gradients(model, 3.0)
    assert torch.isclose(model.weight.grad.norm(), torch.tensor(3.0), atol=1e-4)
    torch.testing.assert_close(model.bias.grad, torch.tensor([0.3, 0.4]))
