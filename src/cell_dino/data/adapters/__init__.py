"""Adapters from real data-set layouts to the FOV manifest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from cell_dino.data.adapters.bbbc021 import read_bbbc021
from cell_dino.data.adapters.bioio_files import read_bioio_files
from cell_dino.data.adapters.hpa import read_hpa
from cell_dino.data.adapters.lincs import read_lincs
from cell_dino.data.adapters.loaddata import read_loaddata
from cell_dino.data.adapters.wtc11 import read_wtc11

AdapterName = Literal["bbbc021", "bioio", "hpa", "lincs", "loaddata", "wtc11"]

ADAPTERS: dict[str, Callable[..., pd.DataFrame]] = {
    "bbbc021": read_bbbc021,
    "bioio": read_bioio_files,  # OME-TIFF, OME-Zarr (ND2, CZI with their bioio plugins): one multichannel file per field
    "hpa": read_hpa,
    "lincs": read_lincs,
    "loaddata": read_loaddata,
    "wtc11": read_wtc11,
}


# adapters that find each channel inside a multichannel file: they take the channels asked for (ingest.source.channels)
READ_CHANNELS = {"bioio"}


def read_manifest(
    adapter: AdapterName, root: str | Path, options: dict[str, Any] | None = None, channels: list[str] | None = None
) -> pd.DataFrame:
    """Read a data set with the named adapter into an (unvalidated) FOV manifest; ``channels`` (the
    channels asked for) go to an adapter of :data:`READ_CHANNELS` unless its ``options`` name them."""
    if adapter not in ADAPTERS:
        raise ValueError(f"unknown adapter {adapter!r}; choose one of {sorted(ADAPTERS)}")
    options = dict(options or {})
    if adapter in READ_CHANNELS and channels is not None:
        options.setdefault("channels", channels)
    return ADAPTERS[adapter](Path(root), **options)
