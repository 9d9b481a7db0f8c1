import numpy as np
import pytest

from cell_dino.profile.attention_overlap import attention_channel_iou, iou


def test_planted_heads_overlap_the_channels_they_copy() -> None:
    rng = np.random.default_rng(0)
    n, size = 5, 32
    left, top = np.zeros((size, size), bool), np.zeros((size, size), bool)
    left[:, :16], top[:16, :] = True, True
    images = np.stack([np.stack([left * 1.0, top * 1.0]) + 0.05 * rng.random((2, size, size)) for _ in range(n)])
    grid_left, grid_top = np.zeros((4, 4)), np.zeros((4, 4))
    grid_left[:, :2], grid_top[:2, :] = 1.0, 1.0
    attention = np.broadcast_to(np.stack([grid_left, grid_top]), (n, 2, 4, 4)).copy()
    matrix = attention_channel_iou(attention, images, ["DNA", "Actin"])
    # head 0 = left half = channel DNA; left vs top halves: 256 shared of 768 pixels
    assert matrix.loc["head 0", "DNA"] == pytest.approx(1.0)
    assert matrix.loc["head 1", "Actin"] == pytest.approx(1.0)
    assert matrix.loc["head 0", "Actin"] == pytest.approx(1 / 3)
    assert matrix.shape == (2, 2)


def test_iou_by_hand_and_bad_channel_names() -> None:
    a, b = np.array([1, 1, 0, 0], bool), np.array([0, 1, 1, 0], bool)
    assert iou(a, b) == pytest.approx(1 / 3)
    assert iou(np.zeros(4, bool), np.zeros(4, bool)) == 0.0
    with pytest.raises(ValueError, match="channels"):
        attention_channel_iou(np.zeros((1, 1, 2, 2)), np.zeros((1, 2, 8, 8)), ["DNA"])
