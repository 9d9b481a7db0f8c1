import numpy as np
import pytest

from cell_dino.profile.cca import cca_matching, top1_matching


def planted(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two modalities of the same n groups sharing a 4-d latent, each with its own features and noise."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 4))
    x = latent @ rng.normal(size=(4, 50)) + 0.3 * rng.normal(size=(n, 50))
    y = latent @ rng.normal(size=(4, 30)) + 0.3 * rng.normal(size=(n, 30))
    return x, y


def test_planted_correspondences_are_matched_on_held_out_groups() -> None:
    x, y = planted()
    result = cca_matching(x, y, n_components=4, n_pcs=8)
    assert result.matching_accuracy > 0.8
    assert result.chance == pytest.approx(5 / 60)
    assert result.correlations[0] > 0.95


def test_broken_correspondences_match_at_chance() -> None:
    x, y = planted()
    shuffled = y[np.random.default_rng(1).permutation(len(y))]
    assert cca_matching(x, shuffled, n_components=4, n_pcs=8).matching_accuracy < 0.25


def test_top1_matching_by_hand() -> None:
    u = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, -1.0], [-1.0, 0.0, 1.0]])
    # v's rows 0 and 1 swapped: rows 0 and 1 match the wrong group both ways, row 2 itself
    assert top1_matching(u, u[[1, 0, 2]]) == pytest.approx(1 / 3)
    assert top1_matching(u, u) == 1.0


def test_rejects_groups_that_do_not_line_up() -> None:
    x, y = planted()
    with pytest.raises(ValueError, match="rows must be the same groups"):
        cca_matching(x, y[:-1])
