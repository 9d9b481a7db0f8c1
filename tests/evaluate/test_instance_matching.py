import numpy as np
import pytest

from cell_dino.evaluate.instance_matching import MatchCounts, iou_matrix, match_instances


def squares() -> tuple[np.ndarray, np.ndarray]:
    truth = np.zeros((20, 20), int)
    truth[2:6, 2:6] = 1  # 16 px
    truth[10:14, 10:14] = 2  # 16 px, missed
    predicted = np.zeros((20, 20), int)
    predicted[2:6, 3:7] = 5  # overlaps object 1 by 12 px: IoU 12 / 20
    predicted[15:18, 2:5] = 9  # nothing there
    return truth, predicted


def test_iou_matrix_by_hand() -> None:
    truth, predicted = squares()
    iou = iou_matrix(truth, predicted)
    assert iou.shape == (3, 10)
    assert iou[1, 5] == pytest.approx(12 / 20)
    assert iou[2, 5] == 0


def test_counts_f1_and_matched_iou_by_hand() -> None:
    counts = match_instances(*squares(), ignore_border=False)
    assert counts == MatchCounts(true_positives=1, false_positives=1, false_negatives=1, iou_sum=pytest.approx(0.6))
    assert counts.f1 == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))
    assert counts.mean_matched_iou == pytest.approx(0.6)
    assert match_instances(*squares(), threshold=0.7, ignore_border=False).true_positives == 0


def test_border_objects_are_ignored_on_both_sides() -> None:
    truth = np.zeros((10, 10), int)
    truth[0:3, 0:3] = 1
    assert match_instances(truth, np.zeros_like(truth)) == MatchCounts(0, 0, 0, 0.0)
    assert match_instances(truth, np.zeros_like(truth), ignore_border=False).false_negatives == 1
