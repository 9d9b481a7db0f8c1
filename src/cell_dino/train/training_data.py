"""What the trainer reads: items with their channels and statistics, and for WS-DINO the weak
labels that pair each image with another."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from cell_dino.data.channels import ChannelSpec, ChannelStats
from cell_dino.data.items import Items, Unit
from cell_dino.data.views import ChannelBag, ChannelImages, SubsetImages
from cell_dino.encoders.preprocessing import dataset_statistics
from cell_dino.train.weak_labels import WeakLabelIndex, check_label_leak

BAG_CHANNEL = "any_channel"  # the one input of a bag-of-channels network: whichever channel it is given


@dataclass
class TrainingData:
    """``images``: ``N x C x H x W`` (indexable, e.g. zarr); ``weak_labels``: WS-DINO's partners;
    ``source_channels``: for one model of a per-channel run or a bag of channels, the data's channels."""

    images: Any
    channels: ChannelSpec
    stats: ChannelStats
    unit: Unit
    weak_labels: WeakLabelIndex | None = None
    weak_label: str | None = None
    balanced: bool = False
    source_channels: tuple[str, ...] | None = None
    generation: str = ""  # the identity of the items (store, and WS-DINO's weak label): a run resumes only on the same
    n_skipped: int = 0  # items of the store left out, their files missing (on_error: skip)
    bag_of_channels: bool = False  # each image one channel of an item (:meth:`channel_bag`)

    @property
    def n_items(self) -> int:
        return int(self.images.shape[0])

    def channel(self, name: str) -> TrainingData:
        """The same items with one channel only (one model per channel, as in WS-DINO)."""
        c = self.channels.names.index(name)
        return replace(
            self,
            images=ChannelImages(self.images, c),
            channels=ChannelSpec((name,)),
            stats=self.stats.select(name),
            source_channels=self.channels.names,
        )

    def channel_bag(self, standardise: bool) -> TrainingData:
        """Every channel of every item as an image of its own, ``N C x 1 x H x W``, for one network
        shared by all channels (bag of channels, CHAMMI-75's MorphEm): its one input is
        :data:`BAG_CHANNEL`; ``standardise`` (``augment.normalise: dataset``): each channel by its own
        data-set statistics (a channel without spread is refused, named), the pooled statistics then
        mean 0, std 1. WS-DINO's partner of an image is the same channel of an item with its weak label."""
        if standardise:
            dataset_statistics(self.stats.as_dict())  # raises naming a channel of std 0
        return replace(
            self,
            images=ChannelBag(self.images, self.stats.mean, self.stats.std) if standardise else ChannelBag(self.images),
            channels=ChannelSpec((BAG_CHANNEL,)),
            stats=self.stats.pooled(BAG_CHANNEL, standardise),
            weak_labels=None if self.weak_labels is None else self.weak_labels.within_channels(len(self.channels)),
            source_channels=self.channels.names,
            generation=f"{self.generation} (bag of channels, standardised {standardise})",
            bag_of_channels=True,
        )

    def subset(self, rows: np.ndarray) -> TrainingData:
        """The items at ``rows`` (a sweep trial's seeded subset)."""
        return replace(self, images=SubsetImages(self.images, rows))


def training_data(
    items: Items,
    weak_label: str | None = None,
    evaluation_label: str = "Metadata_MoA",
    allow_label_leak: bool = False,
    balanced: bool = False,
) -> TrainingData:
    """DINO data (``weak_label`` None) or WS-DINO data with partner images sharing ``weak_label``;
    a weak label that determines the evaluation label one to one is refused (unless allowed)."""
    index = None
    if weak_label is not None:
        if weak_label not in items.table.columns:
            raise ValueError(f"weak_label {weak_label!r} is not a column of the {items.unit} table: {list(items.table.columns)}")
        if evaluation_label in items.table.columns:
            check_label_leak(items.table, weak_label, evaluation_label, allow_label_leak)
        index = WeakLabelIndex(items.table[weak_label])
    # the weak label decides every partner: another label (or its sampling) is other training data
    generation = items.generation if weak_label is None else f"{items.generation} (weak label {weak_label}, balanced {balanced})"
    return TrainingData(
        items.images, items.channels, items.stats, items.unit, index, weak_label, balanced, generation=generation, n_skipped=items.skipped
    )
