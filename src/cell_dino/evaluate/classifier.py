"""MLP classifiers on profiles as in DINO4Cells: grouped cross-validation, macro-F1, confusion matrix.

Two hidden layers (512, 256) with ReLU and dropout 0.5, AdamW with a cosine learning-rate
schedule, softmax cross-entropy (multi-class) or BCE (multi-label: labels joined by ``|``),
class-balanced resampling of the training split, features standardised with the training split's
statistics. Splits are grouped (by compound by default) so no group is in both train and test.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from pydantic import Field
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.preprocessing import MultiLabelBinarizer

from cell_dino.core.config import Count, NonNegative, NonNegativeInt, Positive, settings
from cell_dino.core.undefined import attempt, needs, require
from cell_dino.integrate.finite import NonFinitePolicy, finite_profiles
from cell_dino.integrate.table import feature_matrix, group_values, seeded_subset, treated

log = logging.getLogger(__name__)
SEPARATOR = "|"


@settings
class ClassifierConfig:
    hidden: tuple[Count, ...] = (512, 256)
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.5
    lr: Positive = 1e-3
    weight_decay: NonNegative = 0.05
    epochs: Count = 50
    batch_size: Count = 128
    n_splits: Annotated[int, Field(ge=2)] = 5
    balanced: bool = True
    seed: NonNegativeInt = 0


@dataclass(frozen=True)
class ClassifierResult:
    predictions: pd.DataFrame  # one row per profile: fold, label, prediction
    macro_f1: float
    confusion: pd.DataFrame | None  # true x predicted counts (multi-class only)
    classes: list[str]
    left_out: list[str] = field(default_factory=list)  # classes with items of one group only
    f1_by_class: dict[str, float] = field(default_factory=dict)  # each class's F1 (DINO4Cells reports them for HPA)


class Dropout(nn.Module):
    """Inverted dropout, as ``nn.Dropout``, with its mask drawn by ``torch.rand``: on CPU
    ``nn.Dropout``'s ``bernoulli_`` takes 1.0 ms for a 128 x 512 batch and this 0.33 ms, 40 % of an
    MLP step (torch 2.14, 2 cores)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        return x * (torch.rand_like(x) >= self.p) * (1.0 / (1.0 - self.p))


def mlp(n_in: int, n_out: int, config: ClassifierConfig) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in config.hidden:
        layers += [nn.Linear(n_in, width), nn.ReLU(), Dropout(config.dropout)]
        n_in = width
    return nn.Sequential(*layers, nn.Linear(n_in, n_out))


def fit_mlp(x: np.ndarray, y: np.ndarray, multilabel: bool, config: ClassifierConfig) -> nn.Module:
    """Train on standardised ``x``; ``y`` is class indices or a multi-hot matrix."""
    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    n_out = y.shape[1] if multilabel else int(y.max()) + 1
    model = mlp(x.shape[1], n_out, config)
    steps_per_epoch = max(1, int(np.ceil(len(x) / config.batch_size)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True)  # CPU tensors
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs * steps_per_epoch)
    loss_fn = nn.BCEWithLogitsLoss() if multilabel else nn.CrossEntropyLoss()
    weights = torch.from_numpy(balanced_weights(y, multilabel)) if config.balanced else torch.ones(len(x))
    xt = torch.from_numpy(x.astype(np.float32))
    yt = torch.from_numpy(y.astype(np.float32) if multilabel else y.astype(np.int64))
    model.train()
    for _ in range(config.epochs):
        order = torch.multinomial(weights, len(x), replacement=True, generator=generator)
        for start in range(0, len(x), config.batch_size):
            idx = order[start : start + config.batch_size]
            loss = loss_fn(model(xt[idx]), yt[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    return model.eval()


def balanced_weights(y: np.ndarray, multilabel: bool) -> np.ndarray:
    """Sampling weight per item: inverse class frequency (multi-label: of its rarest label)."""
    if multilabel:
        frequency = y.sum(axis=0)
        inverse = np.where(y > 0, 1.0 / np.maximum(frequency, 1), 0.0)
        weight = inverse.max(axis=1)
        return np.where(weight > 0, weight, 1.0 / len(y))
    counts = np.bincount(y)
    return 1.0 / counts[y]


def cross_validate(
    profiles: pd.DataFrame, label: str = "Metadata_MoA", group: str = "Metadata_Compound", config: ClassifierConfig = ClassifierConfig()
) -> ClassifierResult:
    """Grouped, stratified k-fold predictions of ``label`` for every labelled profile. A class
    (single-label) whose items all come from one group can never be trained on when it is tested:
    it is left out (``ClassifierResult.left_out``), with a warning. Raises
    :class:`~cell_dino.core.undefined.Undefined` with fewer than 2 groups or classes left."""
    needs(profiles.columns, [label, group], "the classifier")
    rows = profiles.loc[profiles[label].notna()].reset_index(drop=True)
    multilabel = bool(rows[label].astype(str).str.contains(SEPARATOR, regex=False).any())
    left_out: list[str] = []
    if not multilabel:
        groups_per_class = pd.Series(group_values(rows, group)).groupby(rows[label].astype(str).to_numpy()).nunique()
        left_out = sorted(groups_per_class.index[groups_per_class < 2])
        if left_out:
            log.warning("classifier: %d class(es) have items of one %s only and are left out: %s", len(left_out), group, left_out[:5])
            rows = rows.loc[~rows[label].astype(str).isin(left_out)].reset_index(drop=True)
    labels = rows[label].astype(str)
    groups = group_values(rows, group)
    require(
        labels.nunique() >= 2,
        f"the classifier needs at least 2 classes of {label} with items of 2 {group} values or more, found {labels.nunique()}",
    )
    n_splits = min(config.n_splits, len(np.unique(groups)), int(labels.value_counts().max()))
    require(
        n_splits >= 2, f"the classifier needs labelled items of at least 2 distinct {group} values to split, found {len(np.unique(groups))}"
    )
    if multilabel:
        binarizer = MultiLabelBinarizer()
        y = binarizer.fit_transform(labels.str.split(SEPARATOR, regex=False))
        classes, strata = list(binarizer.classes_), y.argmax(axis=1)
    else:
        classes, y = np.unique(labels, return_inverse=True)
        classes, strata = list(classes), y
    x = feature_matrix(rows)
    predicted = np.zeros_like(y)
    folds = np.zeros(len(rows), dtype=int)
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=config.seed)
    for fold, (train, test) in enumerate(splitter.split(x, strata, groups)):
        mean, std = x[train].mean(axis=0), x[train].std(axis=0)
        scale = np.where(std > 0, std, 1.0)
        y_train = y[train]
        if not multilabel:  # classes absent from the training split cannot be predicted
            present, y_train = np.unique(y_train, return_inverse=True)
        model = fit_mlp((x[train] - mean) / scale, y_train, multilabel, config)
        with torch.no_grad():
            logits = model(torch.from_numpy(((x[test] - mean) / scale).astype(np.float32))).numpy()
        predicted[test] = (logits > 0).astype(y.dtype) if multilabel else present[logits.argmax(axis=1)]
        folds[test] = fold
    if multilabel:
        truth_names = labels.to_numpy()
        predicted_names = [SEPARATOR.join(np.asarray(classes)[row > 0]) for row in predicted]
        per_class = f1_score(y, predicted, average=None, zero_division=0)
        confusion = None
    else:
        truth_names, predicted_names = labels.to_numpy(), np.asarray(classes)[predicted]
        per_class = f1_score(y, predicted, average=None, labels=np.arange(len(classes)), zero_division=0)
        confusion = pd.DataFrame(confusion_matrix(y, predicted, labels=np.arange(len(classes))), index=classes, columns=classes)
    macro = float(np.mean(per_class))  # sklearn's macro average: the unweighted mean of the classes' F1
    table = pd.DataFrame({group: groups, "fold": folds, "label": truth_names, "prediction": predicted_names})
    log.info("MLP %s: macro-F1 %.3f over %d folds", label, macro, n_splits)
    return ClassifierResult(table, macro, confusion, classes, left_out, dict(zip(classes, per_class.round(4).tolist(), strict=True)))


def treated_sample(items: pd.DataFrame, label: str, max_items: int, seed: int, nonfinite: NonFinitePolicy) -> tuple[pd.DataFrame, dict]:
    """The labelled, non-control items with finite features (see :mod:`cell_dino.integrate.finite`),
    a seeded sample of at most ``max_items``, without item bookkeeping columns; and the record of
    the non-finite rows and features dropped (empty when none)."""
    finite, dropped = finite_profiles(items, nonfinite, "embeddings")
    sample = seeded_subset(treated(finite, label), max_items, seed).drop(columns=["Metadata_Index", "Metadata_Count"], errors="ignore")
    return sample, dropped


def label_accuracy(items: pd.DataFrame, label: str, group: str, config: ClassifierConfig) -> dict:
    """Grouped cross-validated accuracy and macro-F1 of a single-label MLP on ``label`` (DINO4Cells'
    HPA cell-line task), with ``n_items``; null figures and the reason under ``undefined`` when
    the items cannot support it (an absent column, fewer than 2 classes or groups)."""
    undefined: dict[str, str] = {}
    result = attempt(label, lambda: cross_validate(items, label, group, config), undefined)
    if result is None:
        return {"accuracy": None, "macro_f1": None, "n_items": 0, "undefined": undefined}
    table = result.predictions
    return {
        "accuracy": float((table["label"] == table["prediction"]).mean()),
        "macro_f1": result.macro_f1,
        "n_items": len(table),
        "classes": result.classes,
        "undefined": {},
    }


def classify(items: pd.DataFrame, label: str, group: str, config: ClassifierConfig) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """:func:`cross_validate` as tables: predictions, the confusion matrix (empty for multi-label)
    and a record (``macro_f1``, ``classes``, ``n_items``, ``undefined``: the reason when the items
    cannot support a grouped split)."""
    undefined: dict[str, str] = {}
    result = attempt("macro_f1", lambda: cross_validate(items, label, group, config), undefined)
    if result is None:
        return pd.DataFrame(), pd.DataFrame(), {"macro_f1": None, "classes": [], "n_items": len(items), "undefined": undefined}
    confusion = result.confusion if result.confusion is not None else pd.DataFrame()
    return (
        result.predictions,
        confusion,
        {
            "macro_f1": result.macro_f1,
            "classes": result.classes,
            "n_items": len(result.predictions),
            "classes_left_out": result.left_out,
            "f1_by_class": result.f1_by_class,
            "undefined": {},
        },
    )
