"""Kedro dataset for the preprocessed FOV store (zarr)."""

from cell_dino.data.fov_store import FovStore, write_fov_store
from cell_dino.datasets.store import StoreDataset


class FovStoreDataset(StoreDataset):
    """Saves a streaming ``FovStream`` atomically; loads a lazy :class:`FovStore`."""

    writer = staticmethod(write_fov_store)
    reader = FovStore
    marker = "zarr.json"
