import numpy as np
import pytest

from cell_dino.profile.mantel import mantel


def distances(upper: list[float], n: int) -> np.ndarray:
    out = np.zeros((n, n))
    out[np.triu_indices(n, 1)] = upper
    return out + out.T


def test_three_objects_by_hand() -> None:
    # pairs (01, 02, 12): x = (1, 2, 3), y = (1, 2, 4). r = 3 / (sqrt(2) * sqrt(42) / 3) = 9 / sqrt(84).
    # The 6 orderings of 3 objects permute the 3 pairs in all 6 ways; their r are
    # +-9/sqrt(84), +-6/sqrt(84), +-3/sqrt(84): two reach |r| >= 9/sqrt(84), one reaches r >= it.
    x, y = distances([1, 2, 3], 3), distances([1, 2, 4], 3)
    result = mantel(x, y)
    assert result.statistic == pytest.approx(9 / np.sqrt(84))
    assert result.exact and result.permutations == 6
    assert result.p_value == pytest.approx(2 / 6)
    assert mantel(x, y, alternative="greater").p_value == pytest.approx(1 / 6)
    assert mantel(x, y, alternative="less").p_value == pytest.approx(6 / 6)


def test_four_objects_statistic_by_hand() -> None:
    # x = 1..6, y swaps the last two: r = 16.5 / 17.5
    result = mantel(distances([1, 2, 3, 4, 5, 6], 4), distances([1, 2, 3, 4, 6, 5], 4))
    assert result.statistic == pytest.approx(16.5 / 17.5)
    assert result.permutations == 24


def test_random_permutations_separate_related_from_unrelated_matrices() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(20, 5))
    x = np.linalg.norm(points[:, None] - points[None], axis=-1)
    noisy = points + 0.3 * rng.normal(size=points.shape)
    related = mantel(x, np.linalg.norm(noisy[:, None] - noisy[None], axis=-1), permutations=499)
    assert related.p_value == pytest.approx(1 / 500) and related.statistic > 0.8 and not related.exact
    other = rng.normal(size=(20, 5))
    unrelated = mantel(x, np.linalg.norm(other[:, None] - other[None], axis=-1), permutations=499)
    assert unrelated.p_value > 0.05
    assert mantel(x, x, method="spearman").statistic == pytest.approx(1.0)


def test_rejects_mismatched_or_asymmetric_matrices() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        mantel(np.zeros((3, 3)) + distances([1, 2, 3], 3), distances([1, 2, 3, 4, 5, 6], 4))
    with pytest.raises(ValueError, match="symmetric"):
        mantel(np.arange(9.0).reshape(3, 3), distances([1, 2, 3], 3))
