import numpy as np
import pytest

from cell_dino.core.undefined import Undefined
from cell_dino.evaluate.knn import knn_accuracy


def test_knn_leaves_out_the_query_group_by_hand() -> None:
    features = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.95, 0.05]])
    labels = np.array(["x", "x", "y", "y", "y"])
    groups = np.array(["a", "b", "c", "d", "a"])
    # Cosine similarities by hand. k=1: item 0 -> 1 (x) right; 1 -> 4 (y, 0.998 > 0.994 for 0) wrong;
    # 2 -> 3 right; 3 -> 2 right; 4 (group a: not 0) -> 1 (x) wrong.
    assert knn_accuracy(features, labels, groups, k=1) == 3 / 5
    # k=3: 0 -> 1 x, 3 y, 2 y: wrong; 1 -> 4 y, 0 x, 3 y: wrong; 2 -> 3 y, 1 x, 4 y: right;
    # 3 -> 2 y, 1 x, 4 y: right; 4 -> 1 x, 3 y, 2 y: right.
    assert knn_accuracy(features, labels, groups, k=3) == 3 / 5
    # no groups to leave out: 0 -> 4 (y), 1 -> 4 (y) and 4 -> 0 (x) miss; 2 and 3 match each other
    assert knn_accuracy(features, labels, np.arange(5), k=1) == 2 / 5


def test_tied_neighbours_are_drawn_at_random_so_identical_features_score_at_chance() -> None:
    """30 items of x then 10 of y, all identical, each its own group. A first-index tie-break
    gave every x its neighbour 0 (x) and every y too: 0.75 in this order, 0.25 reversed. At
    random, 1-NN is right with probability (30 * 29/39 + 10 * 9/39) / 40 = 0.615 in both orders."""
    features = np.ones((40, 4))
    labels = np.array(["x"] * 30 + ["y"] * 10)
    groups = np.arange(40)
    forward = np.mean([knn_accuracy(features, labels, groups, k=1, seed=s) for s in range(40)])
    backward = np.mean([knn_accuracy(features, labels[::-1], groups, k=1, seed=s) for s in range(40)])
    assert abs(forward - 0.615) < 0.03 and abs(backward - 0.615) < 0.03


def test_knn_with_a_single_group_is_undefined() -> None:
    with pytest.raises(Undefined, match="at least 2 groups"):
        knn_accuracy(np.eye(3), np.array(["x", "y", "x"]), np.array(["a", "a", "a"]))


def test_an_item_whose_label_no_other_group_has_is_a_neighbour_but_not_scored() -> None:
    # z (group e) is the only group of label z: it cannot be right; it still steals item 0's neighbour
    features = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.99, 0.01]])
    labels = np.array(["x", "x", "y", "y", "z"])
    groups = np.array(["a", "b", "c", "d", "e"])
    # 0 -> 4 (z) wrong; 1 -> 4 wrong (0.9949 > 0.9939 to 0); 2 -> 3 right; 3 -> 2 right: 2 of 4 scored
    assert knn_accuracy(features, labels, groups, k=1) == 2 / 4
    with pytest.raises(Undefined, match="no label is held by two groups"):
        knn_accuracy(features, np.array(["v", "w", "x", "y", "z"]), groups, k=1)
