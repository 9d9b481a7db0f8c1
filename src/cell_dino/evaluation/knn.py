"""k-nearest-neighbour label accuracy with cosine similarity, leaving out each query's group
(e.g. its compound, so that a treatment is never matched to itself)."""

from __future__ import annotations

import numpy as np

from cell_dino.evaluation.moa_matching import unit_rows


def knn_accuracy(features: np.ndarray, labels: np.ndarray, groups: np.ndarray, k: int = 1) -> float:
    """Share of items whose majority label among the ``k`` most similar items of *other* groups
    is their own label (ties: the most similar of the tied labels)."""
    normed = unit_rows(features)
    similarity = normed @ normed.T
    similarity[groups[:, None] == groups[None, :]] = -np.inf
    neighbours = np.argsort(-similarity, axis=1)[:, :k]
    correct = 0
    for i, row in enumerate(neighbours):
        votes = labels[row]
        values, counts = np.unique(votes, return_counts=True)
        winners = set(values[counts == counts.max()])
        predicted = next(v for v in votes if v in winners)
        correct += predicted == labels[i]
    return correct / len(labels)
