"""The preprocessed FOV store: a zarr group with ``images`` (``N x C x H x W``, one chunk per FOV
and channel), the FOV keys, each plate's illumination function (subsampled, for QC) and attributes
carrying the channel spec and the per-channel normalisation statistics.

Fields are stored in the source's integer type (uint16, uint8) where preprocessing left their values
whole (no illumination correction, resampling or z-scoring: WTC-11's padded crops), at half the
bytes of float32 or less, and in float32 otherwise; readers always get float32.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import zarr

from cell_dino import __version__
from cell_dino.core.atomic import atomic_path
from cell_dino.data.channels import ChannelSpec
from cell_dino.data.errors import DataError
from cell_dino.data.held import EVERY_CHUNK, HELD, HeldArray, held_record, open_held
from cell_dino.data.store import Store
from cell_dino.core.generation import new_generation


class FovStream(Protocol):
    """What the store writer consumes: items, then a summary and QC arrays."""

    channels: ChannelSpec
    illumination_functions: dict[str, np.ndarray]

    @property
    def capacity(self) -> int: ...

    @property
    def storage_dtype(self) -> str: ...  # known once iteration has begun

    def __iter__(self) -> Iterator[tuple[str, np.ndarray]]: ...

    def summary(self) -> dict: ...


def _write_items(group: zarr.Group, stream: FovStream) -> list[str]:
    keys: list[str] = []
    images = None
    for key, image in stream:
        if images is None:
            dtype = np.dtype(stream.storage_dtype)
            images = group.create_array(
                "images", shape=(stream.capacity, *image.shape), chunks=(1, 1, *image.shape[1:]), dtype=dtype, config=EVERY_CHUNK
            )
        stored = image.astype(dtype, copy=False)
        if dtype != np.float32 and not np.array_equal(stored, image):
            raise DataError(f"{key}: values that {dtype} cannot hold exactly (the stream promised whole {dtype} values)")
        images[len(keys)] = stored
        keys.append(key)
    if images is not None:
        images.resize((len(keys), *images.shape[1:]))
    return keys


def write_fov_store(path: str | Path, stream: FovStream) -> Path:
    """Consume ``stream`` into a new store at ``path``, atomically (temp folder, then rename)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        group = zarr.open_group(tmp, mode="w")
        keys = _write_items(group, stream)
        summary = stream.summary()
        if not keys:
            reasons = [f"{s['fov']}: {s['reason']}" for s in summary["skipped"][:5]]
            raise DataError(f"no field of view could be stored in {path}; first problems: {reasons}")
        plates = sorted(stream.illumination_functions)
        if plates:
            group.create_array("illumination", data=np.stack([stream.illumination_functions[p] for p in plates]))
        group.attrs.update(
            {**summary, "fov_keys": keys, "illumination_plates": plates, "version": __version__, HELD: held_record(group, ("images",)),
             "generation": new_generation()}
        )
    return path


class Float32Fields:
    """A stored ``N x C x H x W`` array read as float32 whatever its storage type (uint16 fields
    come back as float32 of the same values); indexable like the array, picklable for workers."""

    def __init__(self, array: HeldArray) -> None:
        self.array = array
        self.shape = array.shape
        self.dtype = np.dtype(np.float32)
        self.storage_dtype = array.dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: object) -> np.ndarray:
        return np.asarray(self.array[index], dtype=np.float32)


class FovStore(Store):
    """Read access to a store at a local path or a URL (``s3://``); items load one at a time."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, None, "FOV store", "ingest")
        self.images = self.items = Float32Fields(open_held(self.group, self.path, "images", "Run the ingest pipeline again"))
        self.keys: list[str] = list(self.attrs["fov_keys"])

    def illumination(self) -> dict[str, np.ndarray]:
        """Each plate's illumination function (subsampled), by plate."""
        if "illumination" not in self.group:
            return {}
        functions = self.group["illumination"][:]
        return dict(zip(self.attrs["illumination_plates"], functions))
