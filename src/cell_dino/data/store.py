"""What the chain's image stores share: a zarr group at a path or URL with its attributes (the
channel spec, the per-channel statistics, the generation stamp) and one ``N x ...`` array of items,
read item by item (``len``, ``[i]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cell_dino.data.channels import ChannelSpec
from cell_dino.data.locations import join
from cell_dino.data.remote import exists, open_group, store_location


class Store:
    """Read access to the ``kind`` of store (``crop store``) that ``pipeline`` writes, at ``path`` (a
    local path or a URL); raises FileNotFoundError naming the pipeline to run when the store, or
    its ``marker`` file, is not there. Subclasses set ``items``, the array ``[i]`` reads."""

    items: Any

    def __init__(self, path: str | Path, marker: str | None, kind: str, pipeline: str) -> None:
        self.path = store_location(path)
        if not exists(self.path):
            raise FileNotFoundError(f"{self.path}: no {kind} here (run the {pipeline} pipeline)")
        if marker is not None and not exists(join(self.path, marker)):
            raise FileNotFoundError(f"{self.path}: an incomplete {kind}, its {marker} is missing (run the {pipeline} pipeline again)")
        self.group = open_group(self.path)
        self.attrs = dict(self.group.attrs)
        self.channels = ChannelSpec.of(self.attrs["channels"])

    def __len__(self) -> int:
        return self.items.shape[0]

    def __getitem__(self, index: int) -> np.ndarray:
        return self.items[index]

    @property
    def stats(self) -> dict:
        """Per-channel statistics of the (preprocessed) fields."""
        return self.attrs["stats"]

    @property
    def generation(self) -> str:
        """The identity of this store's contents: new each time it is written."""
        return self.attrs.get("generation", "")
