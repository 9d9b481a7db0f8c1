"""The items a model trains on or embeds, decided once: single-cell crops (``unit: cell``, the
crop store) or whole fields (``unit: fov``, the FOV store), with their table, channels, channel
statistics and the identity of the store they come from."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from cell_dino.data.channels import ChannelSpec, ChannelStats
from cell_dino.data.held import MissingItemsError, held_array
from cell_dino.data.views import SubsetImages

log = logging.getLogger(__name__)
Unit = Literal["cell", "fov"]
UNITS = ("cell", "fov")
OnError = Literal["raise", "skip"]  # items a store lacks the files of (data.held): refuse naming them, or leave them out


@dataclass
class Items:
    """``images``: ``N x C x H x W`` (read lazily, zarr); ``table``: one row per item (all
    ``Metadata_*``); ``generation``: the store's identity (see :mod:`cell_dino.core.generation`);
    ``crop_store``: where segmentation masks are, when segment has run (None otherwise);
    ``skipped``: items of the store left out because their files are missing (``on_error: skip``)."""

    unit: Unit
    images: Any
    table: pd.DataFrame
    channels: ChannelSpec
    stats: ChannelStats
    generation: str
    crop_store: Any = None
    skipped: int = 0

    @classmethod
    def of(cls, unit: Unit, crop_store: Any, fov_store: Any, fov_table: pd.DataFrame, on_error: OnError) -> Items:
        """``cell`` -> the crops of the crop store; ``fov`` -> the fields of the FOV store (the crop
        store, for masks, only if segment has run). Items whose chunk or shard file is missing
        raise :class:`MissingItemsError` naming them (``on_error: raise``) or are left out, logged
        and counted in ``skipped`` (``skip``)."""
        if unit == "cell":
            items = cls("cell", crop_store.crops, crop_store.table(), crop_store.channels, ChannelStats.from_dict(crop_store.stats),
                        crop_store.generation, crop_store)
        elif unit == "fov":
            items = cls("fov", fov_store.images, fov_table, fov_store.channels, ChannelStats.from_dict(fov_store.stats), fov_store.generation,
                        _optional(crop_store))
        else:
            raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
        return items.held(on_error)

    def held(self, on_error: OnError) -> Items:
        """These items, less those whose image files, or whose field's mask files, the stores lack
        (see :meth:`of`). Items left out change ``generation``: a run or embedding made without
        them is not resumed as if it were made from the whole store."""
        held, problems = np.ones(len(self), dtype=bool), []
        images = held_array(self.images)
        if images is not None and images.n_missing:
            held &= images.held
            problems.append(images)
        masks = None if self.crop_store is None else held_array(self.crop_store.masks)
        if masks is not None and masks.n_missing:
            fields = self.table["fov_index" if self.unit == "cell" else "store_index"].to_numpy()
            held &= masks.held[fields]
            problems.append(masks)
        if held.all():
            return self
        if on_error == "raise":
            raise MissingItemsError(" ".join(p.missing_message() for p in problems))
        found = " ".join(p.missing_message(skippable=False) for p in problems)
        if not held.any():
            raise MissingItemsError(f"on_error: skip left no item: every one is missing. {found}")
        keep, skipped = np.flatnonzero(held), int((~held).sum())
        log.warning("on_error: skip: %d of %d items left out. %s", skipped, len(self), found)
        digest = hashlib.sha1(np.flatnonzero(~held).tobytes()).hexdigest()[:12]
        return dataclasses.replace(
            self,
            images=SubsetImages(self.images, keep),
            table=self.table.iloc[keep].reset_index(drop=True),
            generation=f"{self.generation} (on_error: skip, {skipped} items left out: {digest})",
            skipped=skipped,
        )

    def __len__(self) -> int:
        return int(self.images.shape[0])


def _optional(store: Any) -> Any:
    """The store if it can be opened, else None (fields need no segmentation)."""
    if store is None:
        return None
    try:
        store.channels  # noqa: B018 - opens a lazy store
    except FileNotFoundError:
        log.info("no crop store: fields are used without segmentation masks")
        return None
    return store
