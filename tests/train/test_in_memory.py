"""Training images held in memory when small: the same training as streaming them from the store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import zarr

from cell_dino.data.views import SubsetImages
from cell_dino.train.loader import in_memory
from cell_dino.train.trainer import train
from tests.train.tiny_training import CONFIG, DATA, IMAGES


def store(path: Path) -> zarr.Array:
    array = zarr.create_array(path, shape=IMAGES.shape, chunks=(1, *IMAGES.shape[1:]), dtype="float32")
    array[:] = IMAGES
    array[2, 1, 3, 4] = np.nan  # a missing pixel: 0 as the streamed item gives it
    return zarr.open_array(path, mode="r")


def test_a_small_store_is_read_whole_and_a_large_one_streamed(tmp_path: Path) -> None:
    images = store(tmp_path / "crops.zarr")
    held = in_memory(images, max_mb=1)  # 16 x 3 x 20 x 20 float32: 77 KB
    assert isinstance(held, np.ndarray) and held.dtype == np.float32
    np.testing.assert_array_equal(held, images[:])
    assert in_memory(images, max_mb=0) is images
    subset = in_memory(SubsetImages(images, np.array([5, 1])), max_mb=1)  # a sweep trial's items
    np.testing.assert_array_equal(subset, images.oindex[[5, 1]])


def test_training_from_memory_equals_training_from_the_store(tmp_path: Path) -> None:
    data = replace(DATA, images=store(tmp_path / "crops.zarr"))
    teachers = []
    for max_mb in (0, 2048):
        config = replace(CONFIG, optim=replace(CONFIG.optim, epochs=1), runtime=replace(CONFIG.runtime, in_memory_mb=max_mb))
        checkpoint = train(data, config, tmp_path / f"run{max_mb}")
        teachers.append(torch.load(checkpoint, weights_only=True)["teacher"])
    assert all(torch.equal(teachers[0][key], teachers[1][key]) for key in teachers[0])
