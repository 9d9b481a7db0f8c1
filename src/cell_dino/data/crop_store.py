"""The single-cell crop store: ``crops`` (``N x C x S x S``, one crop per zstd chunk inside shards of
``CROP_CHUNK`` crops: a random read decompresses one crop, 8 ms at 4 x 512 x 512), the label masks of
every field (``n_fovs x 2 x H x W``: nuclei, cells) and ``cells.parquet``, one row per crop with all
``Metadata_*`` of its field and its geometry. Written by :mod:`cell_dino.segment.segmentation_job`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from cell_dino.data.held import open_held
from cell_dino.data.locations import join
from cell_dino.data.remote import read_parquet
from cell_dino.data.store import Store

CROP_CHUNK = 256
TABLE = "cells.parquet"


class CropStore(Store):
    """Read access to a store at a local path or a URL (``s3://``): crops by index or batch, masks
    by field, the cell table."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, TABLE, "crop store", "segment")
        self.crops = self.items = open_held(self.group, self.path, "crops", "Run the segment pipeline again")
        self.masks = open_held(self.group, self.path, "masks", "Run the segment pipeline again")

    def table(self) -> pd.DataFrame:
        return read_parquet(join(self.path, TABLE))

    def summary(self) -> dict:
        """Cells and fields: counts, cells per field (mean, quartiles), empty fields, field status."""
        per_fov = np.asarray(self.attrs["cells_per_fov"])
        quartiles = np.percentile(per_fov, [25, 50, 75]) if len(per_fov) else [0, 0, 0]
        return {"n_fovs": len(per_fov), "n_cells": int(per_fov.sum()), "n_empty_fovs": int((per_fov == 0).sum()),
                "cells_per_fov": {"mean": float(per_fov.mean()) if len(per_fov) else 0.0, "min": int(per_fov.min()) if len(per_fov) else 0,
                                  "p25": float(quartiles[0]), "median": float(quartiles[1]), "p75": float(quartiles[2]),
                                  "max": int(per_fov.max(initial=0))},
                "fov_status": pd.Series(self.attrs["fov_status"]).value_counts().to_dict(), "crop_size": self.attrs["crop_size"]}
