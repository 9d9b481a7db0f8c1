"""``ingest.source.adapter: bioio`` end to end (the files as tests/data/test_bioio_adapter.py writes them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cell_dino.data.fov_store import FovStore
from tests.data.test_bioio_adapter import CHANNELS, bbbc021_fields, write_ome_tiff, write_ome_zarr
from tests.pipelines.conftest import run_pipeline

pytest.importorskip("bioio_ome_tiff")


def test_the_ingest_pipeline_stores_ome_tiff_and_ome_zarr_fields(project: Path) -> None:
    """``ingest.source.adapter: bioio`` end to end: one OME-TIFF and one OME-Zarr plate directory."""
    root = project / "data/test/01_raw/microscope"
    design = bbbc021_fields(4)
    for i in range(2):
        write_ome_tiff(root / f"tiff/f{i}.ome.tiff", i, CHANNELS if i else ["Actin", "DAPI", "Tubulin"])
    for i in range(2, 4):
        write_ome_zarr(root / f"zarr/f{i}.ome.zarr", i, CHANNELS)
    paths = ["tiff", "tiff", "zarr", "zarr"]
    names = ["f0.ome.tiff", "f1.ome.tiff", "f2.ome.zarr", "f3.ome.zarr"]
    design.assign(FileName=names, PathName=paths).to_csv(root / "fields.csv", index=False)
    source = {"adapter": "bioio", "root": str(root), "options": {"table": "fields.csv"}, "channels": CHANNELS,
              "required_metadata": ["Metadata_Plate", "Metadata_Well", "Metadata_Site"]}
    run_pipeline(project, "ingest", params={"ingest": {"source": source, "preprocess": {"illumination": False}}})
    store = FovStore(project / "data/test/03_primary/fov_store.zarr")
    assert store.channels.names == tuple(CHANNELS) and store.images.shape[:2] == (4, 3)
    means = np.asarray(store.images[:]).mean(axis=(2, 3))
    assert (np.argsort(means, axis=1) == [0, 1, 2]).all()  # DAPI < Tubulin < Actin in every field, whatever the file's order
    assert json.loads((project / "data/test/08_reporting/ingest.json").read_text())["n_outputs"] == 4
