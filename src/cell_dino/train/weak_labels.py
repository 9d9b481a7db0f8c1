"""WS-DINO weak labels: partner images sharing a label, an inverse-frequency sampler, a leak guard."""

from __future__ import annotations

import numpy as np
import pandas as pd


def check_label_leak(table: pd.DataFrame, weak: str, evaluation: str, allow: bool) -> None:
    """Refuse a weak label that is the evaluation label or in one-to-one correspondence with it."""
    for column in (weak, evaluation):
        if column not in table.columns:
            raise ValueError(f"weak-label check: column {column!r} absent; columns: {list(table.columns)}")
    if table[weak].isna().all():
        raise ValueError(
            f"weak label {weak!r} has no value on any item (HPA's Kaggle images carry no antibody): WS-DINO needs a weak label "
            "the data has (train_wsdino.weak_labels.label)"
        )
    pairs = table[[weak, evaluation]].dropna().drop_duplicates() if weak != evaluation else None
    one_to_one = pairs is None or (pairs[weak].is_unique and pairs[evaluation].is_unique)
    if one_to_one and not allow:
        raise ValueError(
            f"weak label {weak!r} determines the evaluation label {evaluation!r} one to one: training on it would "
            "leak the answer into the features. Choose another weak label (e.g. Metadata_Compound) or set "
            "allow_label_leak: true"
        )


class WeakLabelIndex:
    """Which items share each item's weak label. An item without one (an HPA Kaggle image has no
    antibody) is its own partner, as an item alone with its label is; under balanced sampling the
    unlabelled items are drawn together as often as one label."""

    def __init__(self, labels: pd.Series) -> None:
        codes, uniques = pd.factorize(labels.where(labels.isna(), labels.astype(str)), use_na_sentinel=True)
        self.codes = codes
        self.n_labels = len(uniques)
        self.members = [np.flatnonzero(codes == k) for k in range(self.n_labels)]
        self.counts = np.bincount(codes[codes >= 0], minlength=self.n_labels)
        self.unlabelled = codes < 0

    @property
    def singletons(self) -> int:
        """Items alone with their label or without one: their partner is themselves."""
        return int(self.unlabelled.sum() + (self.counts[self.codes[~self.unlabelled]] == 1).sum())

    def partner(self, index: int, rng: np.random.Generator) -> int:
        """A random other item with the same label (the item itself when it is alone or unlabelled)."""
        if self.unlabelled[index]:
            return index
        members = self.members[self.codes[index]]
        if len(members) == 1:
            return index
        others = members[members != index]
        return int(others[rng.integers(len(others))])

    def balanced_weights(self) -> np.ndarray:
        """Inverse label frequency per item: every label (and the unlabelled items together) is drawn equally often."""
        counts = np.where(self.unlabelled, self.unlabelled.sum(), self.counts[np.maximum(self.codes, 0)])
        return 1.0 / counts
