"""Kedro dataset for the single-cell crop store (zarr + parquet)."""

from cell_dino.data.crop_store import TABLE, CropStore, write_crop_store
from cell_dino.datasets.store import StoreDataset


class CropStoreDataset(StoreDataset):
    """Saves by running a ``SegmentationJob`` (resumable, atomic); loads a :class:`CropStore`."""

    writer = staticmethod(write_crop_store)
    reader = CropStore
    marker = TABLE
