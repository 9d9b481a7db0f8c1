"""The blocked rankings behind NSC and mAP equal rankings of every pair, ties included."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cell_dino.evaluation.average_precision import expected_average_precision
from cell_dino.evaluation.similarity import nearest, tie_key, unit_rows


def _tied_profiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random 3-D profiles, a third of them exact copies of others (tied similarities)."""
    x = rng.normal(size=(n, 3))
    copies = rng.choice(n, n // 3, replace=False)
    x[copies] = x[rng.choice(n, n // 3)]
    return unit_rows(x).astype(np.float32)


@pytest.mark.parametrize(("k", "block"), [(2, 7), (5, 64), (500, 1024)])
def test_blocked_top_k_nearest_equals_ranking_every_pair(k: int, block: int) -> None:
    """k = 2 sends most rows to the full-row redo (ties beyond the k-th, no allowed candidate)."""
    rng = np.random.default_rng(3)
    x = _tied_profiles(rng, 60)
    group, labels = rng.integers(0, 12, 60), rng.integers(0, 3, 60).astype(str)
    batch = rng.integers(0, 3, 60)
    rules = {"other_group": lambda a, b: group[a] != group[b], "other_batch": lambda a, b: (group[a] != group[b]) & (batch[a] != batch[b])}
    found = nearest(x, rules, labels, block=block, k=k)
    key = np.round(x.astype(np.float64) @ x.T.astype(np.float64), 6)
    for name, rule in rules.items():
        allowed = rule(np.arange(60)[:, None], np.arange(60)[None, :])
        for i in range(60):
            candidates = np.flatnonzero(allowed[i])
            best = key[i, candidates].max()
            tied = candidates[key[i, candidates] == best]
            assert found[name].index[i] == tied.min() and found[name].n_tied[i] == len(tied)
            assert found[name].agreement[i] == pytest.approx(np.mean(labels[tied] == labels[i]))


def test_a_row_with_no_allowed_profile_has_no_neighbour() -> None:
    x = unit_rows(np.eye(3, dtype=np.float32))
    found = nearest(x, {"other": lambda a, b: (a != b) & (a > 0)}, np.array(["a", "a", "b"]), k=1)["other"]
    assert found.index.tolist() == [-1, 0, 0] and found.n_tied.tolist() == [0, 2, 2] and np.isnan(found.agreement[0])


def _ap_over_every_tie_order(key: np.ndarray, positive: np.ndarray) -> float:
    """The mean AP over every order of the candidates that keeps the keys non-increasing."""
    orders = [o for o in itertools.permutations(range(len(key))) if np.all(np.diff(key[list(o)]) <= 0)]
    aps = []
    for order in orders:
        hits = positive[list(order)]
        aps.append(np.mean((np.cumsum(hits) / np.arange(1, len(hits) + 1))[hits]))
    return float(np.mean(aps))


def test_expected_average_precision_is_the_mean_over_every_tie_order() -> None:
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 3, (40, 7)).astype(np.float32)  # three levels: ties everywhere
    positive = rng.random((40, 7)) < 0.4
    candidate = positive | (rng.random((40, 7)) < 0.8)
    ours = expected_average_precision(tie_key(keys / 1e6), positive, candidate)
    for row in range(40):
        members = np.flatnonzero(candidate[row])
        if positive[row].any():
            expected = _ap_over_every_tie_order(keys[row, members], positive[row, members])
            assert ours[row] == pytest.approx(expected, abs=1e-12)
        else:
            assert np.isnan(ours[row])
