"""Turning an image store and its table into what the trainer reads."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from cell_dino.ssl.trainer import TrainingData
from cell_dino.ssl.weak_labels import WeakLabelIndex, check_label_leak

Unit = Literal["cell", "fov"]


def store_and_table(unit: Unit, crop_store: Any, fov_store: Any, fov_table: pd.DataFrame) -> tuple[Any, Any, pd.DataFrame]:
    """The store to train on and its item table: ``cell`` -> crops, ``fov`` -> whole fields."""
    if unit == "cell":
        return crop_store, crop_store.crops, crop_store.table()
    if unit == "fov":
        return fov_store, fov_store.images, fov_table
    raise ValueError(f"unit must be 'cell' or 'fov', got {unit!r}")


def training_data(
    unit: Unit, crop_store: Any, fov_store: Any, fov_table: pd.DataFrame,
    weak_label: str | None = None, evaluation_label: str = "Metadata_MoA", allow_label_leak: bool = False,
    balanced: bool = False,
) -> TrainingData:  # fmt: skip
    """DINO data (``weak_label`` None) or WS-DINO data with partner images sharing ``weak_label``."""
    store, images, table = store_and_table(unit, crop_store, fov_store, fov_table)
    meta: dict[str, Any] = {"unit": unit, "n_items": int(images.shape[0])}
    index = None
    if weak_label is not None:
        if weak_label not in table.columns:
            raise ValueError(f"weak_label {weak_label!r} is not a column of the {unit} table: {list(table.columns)}")
        if evaluation_label in table.columns:
            check_label_leak(table, weak_label, evaluation_label, allow_label_leak)
        index = WeakLabelIndex(table[weak_label])
        meta |= {"weak_label": weak_label, "n_weak_labels": index.n_labels, "n_singleton_items": index.singletons}
    return TrainingData(images, store.channels, store.stats, index, balanced, meta)
