import numpy as np

from cell_dino.evaluation.knn import knn_accuracy


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
