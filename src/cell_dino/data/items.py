"""The items a model trains on or embeds, decided once: single-cell crops (``unit: cell``, the
crop store) or whole fields (``unit: fov``, the FOV store), with their table, channels, channel
statistics and the identity of the store they come from."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from cell_dino.data.channels import ChannelSpec, ChannelStats

log = logging.getLogger(__name__)
Unit = Literal["cell", "fov"]
UNITS = ("cell", "fov")


@dataclass
class Items:
    """``images``: ``N x C x H x W`` (read lazily, zarr); ``table``: one row per item (all
    ``Metadata_*``); ``generation``: the store's identity (see :mod:`cell_dino.generation`);
    ``crop_store``: where segmentation masks are, when segment has run (None otherwise)."""

    unit: Unit
    images: Any
    table: pd.DataFrame
    channels: ChannelSpec
    stats: ChannelStats
    generation: str
    crop_store: Any = None

    @classmethod
    def of(cls, unit: Unit, crop_store: Any, fov_store: Any, fov_table: pd.DataFrame) -> Items:
        """``cell`` -> the crops of the crop store; ``fov`` -> the fields of the FOV store (the crop
        store, for masks, only if segment has run)."""
        if unit == "cell":
            return cls("cell", crop_store.crops, crop_store.table(), crop_store.channels, ChannelStats.from_dict(crop_store.stats),
                       crop_store.generation, crop_store)
        if unit == "fov":
            return cls("fov", fov_store.images, fov_table, fov_store.channels, ChannelStats.from_dict(fov_store.stats), fov_store.generation,
                       _optional(crop_store))
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")

    def __len__(self) -> int:
        return int(self.images.shape[0])


def _optional(store: Any) -> Any:
    """The store if it can be opened, else None (fields need no segmentation)."""
    try:
        store.channels  # noqa: B018 - opens a lazy store
    except FileNotFoundError:
        log.info("no crop store: fields are used without segmentation masks")
        return None
    return store
