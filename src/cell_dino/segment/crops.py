"""Single-cell crops: fixed-size boxes centred on each cell's centroid, zero-padded at borders."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from skimage.measure import regionprops_table

from cell_dino.data.items import Items

CropMode = Literal["masked", "context"]


def cell_geometry(nuclei: np.ndarray, cells: np.ndarray) -> pd.DataFrame:
    """One row per cell: label, centroid, bounding box, areas, whether it touches the border."""
    props = regionprops_table(cells, properties=("label", "centroid", "bbox", "area"))
    table = pd.DataFrame(
        {
            "label": props["label"],
            "centroid_y": props["centroid-0"],
            "centroid_x": props["centroid-1"],
            "bbox_y0": props["bbox-0"],
            "bbox_x0": props["bbox-1"],
            "bbox_y1": props["bbox-2"],
            "bbox_x1": props["bbox-3"],
            "cell_area": props["area"].astype(int),
        }
    )
    nucleus_area = np.bincount(nuclei.ravel(), minlength=cells.max() + 1)
    table["nucleus_area"] = nucleus_area[table["label"].to_numpy()]
    height, width = cells.shape
    table["touches_border"] = (table["bbox_y0"] == 0) | (table["bbox_x0"] == 0) | (table["bbox_y1"] == height) | (table["bbox_x1"] == width)
    return table


def crop_cells(field: np.ndarray, cells: np.ndarray, geometry: pd.DataFrame, size: int, mode: CropMode) -> np.ndarray:
    """``N x C x size x size`` crops centred on each row's centroid.

    ``masked`` zeroes pixels outside the cell (as in the HPA single-cell models); ``context``
    keeps the neighbourhood. Pixels beyond the field are zero either way.
    """
    if mode not in ("masked", "context"):
        raise ValueError(f"unknown crop mode {mode!r}; use 'masked' or 'context'")
    half = size // 2
    padded = np.pad(field, ((0, 0), (half, size), (half, size)))
    padded_cells = np.pad(cells, ((half, size), (half, size)))
    crops = np.zeros((len(geometry), field.shape[0], size, size), np.float32)
    for i, (label, cy, cx) in enumerate(geometry[["label", "centroid_y", "centroid_x"]].itertuples(index=False)):
        y0, x0 = int(round(cy)), int(round(cx))
        window = (slice(None), slice(y0, y0 + size), slice(x0, x0 + size))
        crops[i] = padded[window]
        if mode == "masked":
            crops[i] *= padded_cells[window[1:]] == label
    return crops


def item_masks(items: Items, indices: np.ndarray) -> np.ndarray:
    """``n x 2 x S x S`` nucleus and cell masks (bool) of the items at ``indices``: for cells, cut
    from their field's masks exactly as the crops were (centred on the centroid, zero beyond the
    field); for fields, the field's masks, or all False when segment has not run."""
    if items.unit == "fov":
        if items.crop_store is None:
            return np.zeros((len(indices), 2, *items.images.shape[-2:]), dtype=bool)
        stored = items.table["store_index"].to_numpy() if "store_index" in items.table else np.arange(len(items))  # items may be a subset
        return np.stack([np.asarray(items.crop_store.masks[int(stored[i])]) for i in indices]) > 0
    masks, size = items.crop_store.masks, items.images.shape[-1]
    out = np.zeros((len(indices), 2, size, size), dtype=bool)
    for row, index in enumerate(indices):
        cell = items.table.iloc[[int(index)]]
        labels = crop_cells(np.asarray(masks[int(cell["fov_index"].iloc[0])]), np.zeros(masks.shape[2:], int), cell, size, "context")[0]
        out[row] = labels == int(cell["label"].iloc[0])
    return out
