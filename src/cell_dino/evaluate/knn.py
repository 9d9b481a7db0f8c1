"""k-nearest-neighbour label accuracy with cosine similarity, leaving out each query's group
(e.g. its compound, so that a treatment is never matched to itself)."""

from __future__ import annotations

import logging

import numpy as np

from cell_dino.core.undefined import require
from cell_dino.evaluate.neighbours import tie_key, unit_rows, zero_norm

log = logging.getLogger(__name__)


def knn_accuracy(features: np.ndarray, labels: np.ndarray, groups: np.ndarray, k: int = 1, seed: int = 0) -> float:
    """Share of items whose majority label among the ``k`` most similar items of *other* groups
    is their own label (vote ties: the most similar of the tied labels).

    Equal similarities carry no information: they are ordered at random (seeded), so that
    identical profiles score at chance. Zero-norm items take no part. An item whose label no
    other group has cannot be right and is not scored (it stays a neighbour of the others), as
    NSC does. Raises :class:`~cell_dino.core.undefined.Undefined` with fewer than two groups or two
    labels, or when no label is held by two groups."""
    blank = zero_norm(features)
    if blank.any():
        log.warning("k-NN: %d zero-norm item(s) (no direction) take no part", blank.sum())
        features, labels, groups = features[~blank], labels[~blank], groups[~blank]
    require(
        len(np.unique(groups)) >= 2,
        f"k-NN needs items of at least 2 groups to compare, got {len(np.unique(groups))} group(s) in {len(groups)} item(s)",
    )
    require(
        len(np.unique(labels)) >= 2, f"k-NN accuracy needs at least 2 labels (with one, every vote is right), got {len(np.unique(labels))}"
    )
    label_codes, group_codes = np.unique(labels, return_inverse=True)[1], np.unique(groups, return_inverse=True)[1]
    groups_per_label = np.bincount(np.unique(np.stack([label_codes, group_codes]), axis=1)[0])
    matchable = groups_per_label[label_codes] > 1
    require(bool(matchable.any()), f"k-NN: no label is held by two groups ({len(np.unique(groups))} groups): no item can be matched")
    normed = unit_rows(features)
    similarity = tie_key(normed @ normed.T)
    similarity[groups[:, None] == groups[None, :]] = -np.inf
    jitter = np.random.default_rng(seed).random(similarity.shape)
    neighbours = np.lexsort((jitter, -similarity))[:, :k]
    allowed = np.take_along_axis(similarity, neighbours, axis=1) > -np.inf
    correct = 0
    for i in np.flatnonzero(matchable):
        votes = labels[neighbours[i][allowed[i]]]
        values, counts = np.unique(votes, return_counts=True)
        winners = set(values[counts == counts.max()])
        predicted = next(v for v in votes if v in winners)
        correct += predicted == labels[i]
    return correct / int(matchable.sum())
