"""``kedro run -e wtc11 --params root=<miniature>`` through every pipeline on a miniature of the Allen
WTC-11 manifest (real CellIds, FOVIds and mitotic stages; synthetic 3-D crops and masks of varying
size): z-stacks max-projected, the crops' own masks instead of segmentation, cell -> FOV ->
structure profiles, cell-stage classification and pseudotime from interphase."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cell_dino.data.crop_store import CropStore
from cell_dino.data.fov_store import FovStore
from tests.projects import TINY_CHAIN, read_report, run_on_miniature
from tests.wtc11_miniature import PER_STAGE, write_miniature

DATA = Path("data/wtc11")
PARAMS = TINY_CHAIN | {
    "ingest": {"preprocess": {"pad_to": [64, 64]}},
    "segment": {"config": {"crop_size": 64}},
    "profile": {"pseudotime": {"n_neighbors": 5, "n_components": 4}},
}
N_CELLS = 6 * PER_STAGE


@pytest.fixture(scope="module")
def wtc11_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    return run_on_miniature(tmp_path_factory, "wtc11", write_miniature, PARAMS)


def test_crops_are_max_projected_and_centred_on_one_canvas(wtc11_run: tuple[Path, pd.DataFrame]) -> None:
    project, manifest = wtc11_run
    store = FovStore(project / DATA / "03_primary/fov_store.zarr")
    assert store.images.shape == (N_CELLS, 3, 64, 64) and list(store.channels.names) == ["dna", "membrane", "structure"]
    first = np.asarray(store.images[0])
    assert first[0, 32, 32] > 1000 and first[0, 0, 0] == 0  # the nucleus's brightest plane at the centre; the padding zero


def test_each_crop_gives_one_cell_from_its_own_masks(wtc11_run: tuple[Path, pd.DataFrame]) -> None:
    project, _ = wtc11_run
    crops = CropStore(project / DATA / "03_primary/crop_store.zarr")
    assert len(crops) == N_CELLS and crops.table()["Metadata_FOV"].is_unique
    assert (
        read_report(project, "wtc11", "segment")["cells_per_fov"]["min"]
        == 1
        == read_report(project, "wtc11", "segment")["cells_per_fov"]["max"]
    )


def test_stage_classification_and_pseudotime_from_interphase(wtc11_run: tuple[Path, pd.DataFrame]) -> None:
    project, manifest = wtc11_run
    integration = read_report(project, "wtc11", "integrate_dino")
    assert integration["levels"]["fov"] == N_CELLS and integration["levels"]["zscore/well"] == manifest["FOVId"].nunique()
    assert integration["levels"]["zscore/treatment"] == 3
    classifier = json.loads((project / DATA / "07_model_output/cellprofiler/classifier.json").read_text())
    assert set(classifier["f1_by_class"]) == {"M0", "M1M2", "M3", "M4M5", "M6M7_complete", "M6M7_single"}
    dino = read_report(project, "wtc11", "profile")["models"]["cellprofiler"]
    assert dino["pseudotime"]["n_items"] == N_CELLS and "spearman_with_Metadata_CellStageOrder" in dino["pseudotime"]
    assert dino["pseudotime"]["median_by_group"]["M0"] <= min(dino["pseudotime"]["median_by_group"].values()) + 1e-9
