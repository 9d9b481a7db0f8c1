"""Which labelled groups a sweep may score: whole labels (e.g. MoAs) held out for validation, so
that k-NN leaving out the query's compound works within them and the other labels' compounds
(the test treatments) are never scored."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cell_dino.integrate.table import group_values, require_columns


@dataclass(frozen=True)
class ValidationSplit:
    label: str
    group: str
    validation_labels: list[str]
    test_labels: list[str]
    validation_groups: list[str]
    test_groups: list[str]

    def validation_rows(self, table: pd.DataFrame) -> np.ndarray:
        return np.flatnonzero(table[self.label].astype(str).isin(self.validation_labels).to_numpy())


def validation_split(table: pd.DataFrame, label: str, group: str, share: float, controls: list[str], seed: int) -> ValidationSplit:
    """A seeded ``share`` of the labels that have at least two groups (never fewer than two labels)
    for validation; every other labelled group is test. ``controls`` labels are in neither."""
    require_columns(table, [label, group], "sweep validation split")
    pairs = pd.DataFrame({label: table[label].to_numpy(), group: group_values(table, group)})  # a missing group: the item's field
    pairs = pairs.dropna().astype(str).drop_duplicates()
    pairs = pairs[~pairs[label].isin(controls)]
    sizes = pairs.groupby(label)[group].nunique()
    eligible = sorted(sizes[sizes >= 2].index)
    if len(eligible) < 2:
        raise ValueError(f"sweep validation needs two {label} values with two {group} values each; have {sizes.to_dict()}")
    n = min(len(eligible), max(2, math.ceil(share * len(eligible))))
    chosen = sorted(np.random.default_rng(seed).choice(eligible, n, replace=False).tolist())
    rest = sorted(set(pairs[label]) - set(chosen))
    groups = pairs.groupby(label)[group].apply(sorted)
    return ValidationSplit(
        label, group, chosen, rest, sorted(g for name in chosen for g in groups[name]), sorted(g for name in rest for g in groups[name])
    )
