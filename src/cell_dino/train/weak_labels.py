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
    unlabelled items are drawn together as often as one label. With ``n_channels``, the index of a
    bag of channels (:class:`cell_dino.data.views.ChannelBag`: image ``k`` is channel ``k % C`` of
    item ``k // C``): a partner is the same channel of another item with the label."""

    def __init__(self, labels: pd.Series, n_channels: int = 1) -> None:
        codes, uniques = pd.factorize(labels.where(labels.isna(), labels.astype(str)), use_na_sentinel=True)
        self.n_labels, self.item_codes, self.n_channels = len(uniques), codes, n_channels  # the items' labels
        if n_channels > 1:  # a bag of channels: each label once per channel
            per_image = np.repeat(codes, n_channels)
            codes = np.where(per_image >= 0, per_image * n_channels + np.tile(np.arange(n_channels), len(codes)), -1)
        self.codes = codes
        groups = self.n_labels * n_channels
        self.counts = np.bincount(codes[codes >= 0], minlength=groups)
        order = np.argsort(codes, kind="stable")  # each label's members in one sort, not one scan per label
        self.members = np.split(order[(codes < 0).sum() :], np.cumsum(self.counts)[:-1])
        self.unlabelled = codes < 0

    def within_channels(self, n_channels: int) -> WeakLabelIndex:
        """The same items' labels, as the index of their bag of ``n_channels`` channels."""
        return WeakLabelIndex(pd.Series(self.item_codes, dtype=float).where(self.item_codes >= 0), n_channels)

    @property
    def singletons(self) -> int:
        """Items alone with their label or without one: their partner is themselves (a bag of
        channels: items, not channel images)."""
        return int(self.unlabelled.sum() + (self.counts[self.codes[~self.unlabelled]] == 1).sum()) // self.n_channels

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
        """Inverse label frequency per item: every label (and the unlabelled items together) is drawn
        equally often (in a bag of channels, within each channel)."""
        counts = np.where(self.unlabelled, self.unlabelled.sum() / self.n_channels, self.counts[np.maximum(self.codes, 0)])
        return 1.0 / counts
