"""Stores that know what they hold.

Zarr reads a chunk or shard file that is not there as its fill value: a deleted shard of the crop
store reads as 256 blank crops, and a model embeds them without a word. So every array the chain
writes is created with every chunk written, blank ones too (:data:`EVERY_CHUNK`), and its group
records, with the generation stamp and so last, how many items and files each array holds
(:func:`held_record`, attribute :data:`HELD`). :class:`HeldArray` reads through such an array and
refuses an item whose file is missing, naming the store, the items and the file; :meth:`cell_dino.data.items.Items.held`
leaves such items out instead (``on_error: skip``).

A store written before this record existed is read unchecked, with one warning: its blank chunks
were never written, so a missing file there is not evidence of a fault.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Mapping
from typing import Any

import fsspec
import numpy as np
import zarr

from cell_dino.data.errors import DataError
from cell_dino.data.locations import Location, join

log = logging.getLogger(__name__)

HELD = "held"  # group attribute: {array name: {"items": n, "files": chunk or shard files}}
EVERY_CHUNK = {"write_empty_chunks": True}  # zarr's default skips all-fill chunks: their absence would look like a fault


class MissingItemsError(DataError):
    """Items of a store whose chunk or shard file is missing."""


class DamagedItemsError(DataError):
    """Items of a store whose chunk or shard file cannot be decoded (truncated, corrupt)."""


def _file_shape(array: zarr.Array) -> tuple[int, ...]:
    return tuple(array.shards or array.chunks)


def _files_per_item_row(array: zarr.Array) -> int:
    return math.prod(math.ceil(s / f) for s, f in zip(array.shape[1:], _file_shape(array)[1:], strict=True))


def held_record(group: zarr.Group, names: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """What the arrays ``names`` of ``group`` hold as written: items (their first axis) and files."""
    record = {}
    for name in names:
        array = group[name]
        rows = math.ceil(array.shape[0] / _file_shape(array)[0])
        record[name] = {"items": int(array.shape[0]), "files": rows * _files_per_item_row(array)}
    return record


def _present_files(location: Location, name: str) -> list[tuple[int, ...]]:
    """The chunk-grid positions of the files array ``name`` has under ``location`` (one listing)."""
    fs, root = fsspec.url_to_fs(join(join(location, name), "c"))
    if not fs.exists(root):
        return []
    keys = (path[len(root) :].strip("/").split("/") for path in fs.find(root))
    return [tuple(map(int, key)) for key in keys if all(part.isdigit() for part in key)]  # not .DS_Store, rsync's temporaries


def _ranges(indices: np.ndarray) -> str:
    """``0-255, 512-767`` for sorted item indices (at most 5 ranges named)."""
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    runs = [(int(r[0]), int(r[-1])) for r in np.split(indices, breaks)]
    text = ", ".join(f"{a}-{b}" if b > a else str(a) for a, b in runs[:5])
    return text + (f" and {len(runs) - 5} more range(s)" if len(runs) > 5 else "")


class HeldArray:
    """An ``N x ...`` zarr array of a store, read like the array (``[i]``, ``[a:b]``), that raises
    :class:`MissingItemsError` for items whose file is missing instead of returning fill values.

    ``location``: the store (path or URL); ``name``: the array in it; ``recorded``: the store's
    :data:`HELD` record of this array (None: written before the record, read unchecked);
    ``rewrite``: what writes the store again, for the message. Picklable for workers."""

    def __init__(self, array: zarr.Array, location: Location, name: str, recorded: Mapping[str, int] | None, rewrite: str) -> None:
        self.array, self.location, self.name, self.rewrite = array, location, name, rewrite
        self.shape, self.dtype, self.chunks = array.shape, array.dtype, array.chunks
        self.held = np.ones(self.shape[0], dtype=bool)
        self.absent: list[str] = []
        if recorded is None:
            return
        if recorded["items"] != self.shape[0]:
            raise MissingItemsError(f"{location}: {name} has {self.shape[0]} items where the store recorded {recorded['items']}. {rewrite}")
        rows, per_row = _file_shape(array)[0], _files_per_item_row(array)
        grid = math.ceil(self.shape[0] / rows)
        present = set(_present_files(location, name))
        counts = np.bincount([p[0] for p in present if p[0] < grid], minlength=grid)
        others = [range(math.ceil(s / f)) for s, f in zip(self.shape[1:], _file_shape(array)[1:], strict=True)]
        for row in np.flatnonzero(counts < per_row):
            self.held[row * rows : (row + 1) * rows] = False
            absent = [key for key in itertools.product([int(row)], *others) if key not in present]
            self.absent += ["/".join([name, "c", *map(str, key)]) for key in absent[:3]]
        if self.absent:
            log.warning("%s: %d of %d %s have a missing file (%s)", location, self.n_missing, self.shape[0], name, ", ".join(self.absent[:3]))

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def n_missing(self) -> int:
        return int((~self.held).sum())

    def missing_message(self, indices: np.ndarray | None = None, skippable: bool = True) -> str:
        """Which items (of ``indices``, default all) are missing, where, and what to do (``skippable``:
        the reader can leave them out with ``on_error: skip``)."""
        bad = np.flatnonzero(~self.held) if indices is None else np.unique(indices[~self.held[indices]])
        skip = ", or set the reading pipeline's on_error: skip (embed, train_dino, train_wsdino) to leave them out" if skippable else ""
        return (
            f"{self.location}: {self.name} {_ranges(bad)} are missing (file(s) {', '.join(self.absent[:3])} absent from the store;"
            f" zarr would read them as blank). {self.rewrite}{skip}"
        )

    def __getitem__(self, index: Any) -> np.ndarray:
        first = index[0] if isinstance(index, tuple) else index
        if self.absent and not np.all(self.held[first]):  # the mask indexed as the items are: no copy for a slice
            raise MissingItemsError(self.missing_message(np.atleast_1d(np.arange(self.shape[0])[first])))
        try:
            return self.array[index]
        except (ValueError, RuntimeError, OSError) as error:  # a codec's checksum or decompression failure: a damaged file
            items = _ranges(np.atleast_1d(np.arange(self.shape[0])[first]))
            raise DamagedItemsError(
                f"{self.location}: {self.name} {items} cannot be read ({type(error).__name__}: {error}): a chunk or shard file"
                f" under {self.name}/c/ is truncated or damaged. {self.rewrite}"
            ) from error


def open_held(group: zarr.Group, location: Location, name: str, rewrite: str) -> HeldArray:
    """Array ``name`` of a store's ``group`` as a :class:`HeldArray` (one warning per store written
    before stores recorded what they hold)."""
    if name not in group:
        raise MissingItemsError(f"{location}: no array {name!r} (its folder or zarr.json is gone). {rewrite}")
    record = group.attrs.get(HELD)
    if record is None:
        log.warning("%s: written before stores recorded what they hold; missing files are not detected (%s)", location, rewrite)
    return HeldArray(group[name], location, name, None if record is None else record.get(name), rewrite)


def require_held(*arrays: Any) -> None:
    """Raise :class:`MissingItemsError` for the first of ``arrays`` (store arrays, or views of them)
    that lacks the files of any item: a job over every item fails before it starts, not hours in."""
    for array in arrays:
        held = held_array(array)
        if held is not None and held.n_missing:
            raise MissingItemsError(held.missing_message(skippable=False))


def held_array(images: Any) -> HeldArray | None:
    """The :class:`HeldArray` under ``images`` (itself, or one it wraps as ``.array``: the FOV
    store's float32 view); None for arrays of no store."""
    for candidate in (images, getattr(images, "array", None)):
        if isinstance(candidate, HeldArray):
            return candidate
    return None
