"""Instance segmentation accuracy: F1 at an IoU threshold and mean matched IoU.

At a threshold of 0.5 or more, each true object overlaps at most one predicted object with IoU
above the threshold, so the matching is unique and needs no assignment solver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from skimage.segmentation import clear_border, relabel_sequential


@dataclass(frozen=True)
class MatchCounts:
    true_positives: int
    false_positives: int
    false_negatives: int
    iou_sum: float

    def __add__(self, other: MatchCounts) -> MatchCounts:
        return MatchCounts(*(a + b for a, b in zip(asdict(self).values(), asdict(other).values())))

    @property
    def f1(self) -> float:
        denominator = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / denominator if denominator else 1.0

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    @property
    def mean_matched_iou(self) -> float:
        return self.iou_sum / self.true_positives if self.true_positives else float("nan")

    def summary(self) -> dict[str, float]:
        return {
            "f1": self.f1,
            "precision": self.precision,
            "recall": self.recall,
            "mean_matched_iou": self.mean_matched_iou,
            "n_true": self.true_positives + self.false_negatives,
            "n_predicted": self.true_positives + self.false_positives,
        }


def iou_matrix(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """IoU of every (true, predicted) object pair; row/column 0 is the background."""
    n_true, n_pred = int(truth.max()) + 1, int(predicted.max()) + 1
    overlap = np.bincount(truth.ravel() * n_pred + predicted.ravel(), minlength=n_true * n_pred).reshape(n_true, n_pred)
    union = overlap.sum(1, keepdims=True) + overlap.sum(0, keepdims=True) - overlap
    return overlap / np.maximum(union, 1)


def match_instances(truth: np.ndarray, predicted: np.ndarray, threshold: float = 0.5, ignore_border: bool = True) -> MatchCounts:
    """Count matches between two label images (objects touching the border ignored if asked)."""
    if threshold < 0.5:
        raise ValueError("unique matching needs an IoU threshold of at least 0.5")
    if truth.shape != predicted.shape:
        raise ValueError(f"label images differ in shape: {truth.shape} vs {predicted.shape}")
    if ignore_border:
        truth, predicted = clear_border(truth), clear_border(predicted)
    truth, predicted = relabel_sequential(truth)[0], relabel_sequential(predicted)[0]
    iou = iou_matrix(truth, predicted)[1:, 1:]
    matched = iou > threshold
    tp = int(matched.sum())
    return MatchCounts(tp, int(iou.shape[1] - tp), int(iou.shape[0] - tp), float(iou[matched].sum()))


def accuracy(predicted: Sequence[np.ndarray], truth: Sequence[tuple[np.ndarray, np.ndarray] | None], threshold: float = 0.5) -> dict:
    """Nucleus and cell F1, precision, recall and mean matched IoU over the fields that have ground
    truth: ``predicted[i]`` is field i's ``2 x H x W`` (nuclei, cells) labels, ``truth[i]`` its
    ``(nuclei, cells)`` or None. Empty when no field has ground truth."""
    totals = {"nuclei": MatchCounts(0, 0, 0, 0.0), "cells": MatchCounts(0, 0, 0, 0.0)}
    scored = 0
    for labels, true in zip(predicted, truth):
        if true is None:
            continue
        scored += 1
        for kind, t, p in zip(totals, true, labels):
            totals[kind] = totals[kind] + match_instances(np.asarray(t, np.int64), np.asarray(p, np.int64), threshold)
    return {"n_fovs_scored": scored, "iou_threshold": threshold, **{k: v.summary() for k, v in totals.items()}} if scored else {}
