"""The blocked rankings behind NSC and mAP equal rankings of every pair, ties included."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cell_dino.evaluate.average_precision import expected_average_precision
from cell_dino.evaluate.neighbours import nearest, tie_key, unit_rows


def _tied_profiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random 3-D profiles, a third of them exact copies of others (tied similarities)."""
    x = rng.normal(size=(n, 3))
    copies = rng.choice(n, n // 3, replace=False)
    x[copies] = x[rng.choice(n, n // 3)]
    return unit_rows(x).astype(np.float32)


def _assert_exact(x: np.ndarray, rules: dict, labels: np.ndarray, found: dict) -> None:
    """Each rule's neighbours, ties and agreements equal those of ranking every pair in float64."""
    n = len(x)
    key = np.round(x.astype(np.float64) @ x.T.astype(np.float64), 6)
    for name, rule in rules.items():
        allowed = rule(np.arange(n)[:, None], np.arange(n)[None, :])
        for i in range(n):
            candidates = np.flatnonzero(allowed[i])
            best = key[i, candidates].max()
            tied = candidates[key[i, candidates] == best]
            assert found[name].index[i] == tied.min() and found[name].n_tied[i] == len(tied)
            assert found[name].agreement[i] == pytest.approx(np.mean(labels[tied] == labels[i]))


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize(("k", "block"), [(2, 7), (5, 64), (500, 1024)])
def test_blocked_top_k_nearest_equals_ranking_every_pair(k: int, block: int, precision: str) -> None:
    """k = 2 sends most rows to the full-row redo (ties beyond the k-th, no allowed candidate)."""
    rng = np.random.default_rng(3)
    x = _tied_profiles(rng, 60)
    group, labels = rng.integers(0, 12, 60), rng.integers(0, 3, 60).astype(str)
    batch = rng.integers(0, 3, 60)
    rules = {"other_group": lambda a, b: group[a] != group[b], "other_batch": lambda a, b: (group[a] != group[b]) & (batch[a] != batch[b])}
    _assert_exact(x, rules, labels, nearest(x, rules, labels, block=block, k=k, precision=precision))


def test_bf16_screen_ranks_neighbours_closer_than_its_resolution_exactly() -> None:
    """Clusters of profiles a few 1/1024 apart: their similarities differ by about 1e-5, far below
    the bf16 screen's 2^-8, so only the float32 rescore can order them. Coordinates are multiples
    of 1/1024 (norms about 1), so every similarity is exact in float32 whatever the order of the
    sum, and the brute force below is the truth. Groups of 32 columns (130 padded to 160, k = 2)
    exercise the grouped top-k; blocks of 96 rows a ragged last block."""
    rng = np.random.default_rng(5)
    centres = np.round(unit_rows(rng.normal(size=(13, 3))) * 1024)
    x = ((np.repeat(centres, 10, axis=0) + rng.integers(-3, 4, size=(130, 3))) / 1024).astype(np.float32)
    group, labels = np.arange(130) // 2, rng.integers(0, 3, 130).astype(str)
    rules = {"other_group": lambda a, b: group[a] != group[b]}
    found = nearest(x, rules, labels, block=96, k=2, precision="bf16", group=32)["other_group"]
    key = tie_key(x @ x.T)
    allowed = group[:, None] != group[None, :]
    for i in range(130):
        best = key[i, allowed[i]].max()
        tied = np.flatnonzero(allowed[i] & (key[i] == best))
        assert (found.index[i], found.n_tied[i]) == (tied.min(), len(tied))
        assert found.agreement[i] == pytest.approx(np.mean(labels[tied] == labels[i]))


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
