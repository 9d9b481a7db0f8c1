"""A parquet table that may be absent (e.g. another modality that only some screens have)."""

from __future__ import annotations

import logging

import pandas as pd

from cell_dino.datasets.files import ParquetDataset

log = logging.getLogger(__name__)


class OptionalTableDataset(ParquetDataset):
    """Loads an empty table, with a log line naming the path, when the file does not exist."""

    def _load(self) -> pd.DataFrame:
        if not self._exists():
            log.info("%s is absent: analyses that need it are skipped", self._filepath)
            return pd.DataFrame()
        return super()._load()
