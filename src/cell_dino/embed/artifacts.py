"""What the embed pipeline writes, readable without torch (the explorer reads it): the embedding
table folder and the attention sample."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from cell_dino.core.atomic import atomic_path
from cell_dino.data.held import MissingItemsError

REPORT = "_embedding.json"  # pyarrow skips names starting with "_" when reading the folder
ARRAYS, ITEMS = "arrays.npz", "items.parquet"
log = logging.getLogger(__name__)
FEATURE_PREFIX = "f_"
PARTS = "parts"  # in the report: [[file, rows], ...] in item order; a folder read misses a deleted part silently


def feature_names(n: int) -> list[str]:
    """The feature columns of an embedding: ``f_0000``, ``f_0001``, ..."""
    return [f"{FEATURE_PREFIX}{j:04d}" for j in range(n)]


def parts_record(folder: Path) -> list[list]:
    """``[[file, rows], ...]`` of the parquet parts in ``folder``, in item order (for :data:`PARTS`)."""
    return [[p.name, pq.ParquetFile(p).metadata.num_rows] for p in sorted(folder.glob("part-*.parquet"))]


def read_embeddings(path: str | Path) -> pd.DataFrame:
    """An embedding folder as one table; its run record in ``attrs["embedding"]``. Raises
    FileNotFoundError when there is no finished embedding, :class:`MissingItemsError` naming the
    part files (and their items) the record lists and the folder lacks. Only the listed parts are
    read (a copied or stray parquet file in the folder is named in a warning and left out)."""
    path = Path(path)
    if not (path / REPORT).is_file():
        raise FileNotFoundError(f"{path}: no finished embedding here (run the embed pipeline)")
    report = json.loads((path / REPORT).read_text())
    first, missing = 0, []
    for name, rows in report.get(PARTS, []):
        if not (path / name).is_file():
            missing.append(f"{name} (items {first}-{first + rows - 1})")
        first += rows
    if missing:
        raise MissingItemsError(f"{path}: part(s) {', '.join(missing[:3])} missing; run embed again to write the folder whole")
    if PARTS not in report:  # written before the record listed its parts
        table = pd.read_parquet(path)
    else:
        listed = {name for name, _ in report[PARTS]}
        stray = sorted(p.name for p in path.glob("*.parquet") if p.name not in listed)
        if stray:
            log.warning("%s: %s not written by embed, left out", path, stray[:5])
        table = pq.ParquetDataset([str(path / name) for name, _ in report[PARTS]]).read().to_pandas() if listed else pd.read_parquet(path)
    table.attrs["embedding"] = report
    return table


@dataclass
class AttentionSample:
    """``images`` raw (n x C x S x S), their ``channels`` (names, in order), ``masks`` (n x 2 x S x S:
    nucleus, cell; bool), ``attention`` (n x heads x h x w), ``tokens`` (n x h x w x D), ``items``
    (metadata, one row each), ``heads`` (a name per attention map: ``head i``, or ``<channel> head i``
    for the models of a per-channel run)."""

    items: pd.DataFrame
    channels: list[str]
    images: np.ndarray
    masks: np.ndarray
    attention: np.ndarray
    tokens: np.ndarray
    heads: list[str]

    def save(self, path: str | Path) -> None:
        with atomic_path(path) as tmp:
            tmp.mkdir()
            np.savez(  # uncompressed: fields' float images and tokens shrink by 16 %, and zlib took 30 s to write and 5 s to read them
                tmp / ARRAYS,
                channels=np.array(self.channels),
                images=self.images,
                masks=self.masks,
                attention=self.attention,
                tokens=self.tokens,
                heads=np.array(self.heads),
            )
            self.items.to_parquet(tmp / ITEMS)

    @classmethod
    def load(cls, path: str | Path) -> AttentionSample:
        path = Path(path)
        if not (path / ITEMS).is_file():
            raise FileNotFoundError(f"{path}: no attention sample here (run the embed pipeline)")
        with np.load(path / ARRAYS) as arrays:
            return cls(
                pd.read_parquet(path / ITEMS),
                arrays["channels"].tolist(),
                *(arrays[k] for k in ("images", "masks", "attention", "tokens")),
                arrays["heads"].tolist() if "heads" in arrays else [f"head {h}" for h in range(arrays["attention"].shape[1])],
            )
