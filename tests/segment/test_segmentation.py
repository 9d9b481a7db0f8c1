"""Segmentation on planted objects, degenerate fields, and real annotated nuclei."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import tifffile
from skimage.draw import disk

from cell_dino.data.channels import ChannelSpec
from cell_dino.evaluate.instance_matching import match_instances
from cell_dino.segment.segment_fovs import SegmentConfig, segment_field
from cell_dino.segment.segmentation import CellConfig, NucleiConfig, pair_objects, segment_cells, segment_nuclei

CHANNELS = ChannelSpec(("DNA", "Tubulin", "Actin"))


def planted_field(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two touching nuclei and one apart, in cells; returns the field and the true nuclei."""
    shape = (80, 100)
    truth = np.zeros(shape, int)
    for label, centre in enumerate([(30, 30), (30, 47), (60, 75)], start=1):
        truth[disk(centre, 9, shape=shape)] = label
    field = np.zeros((3, *shape), np.float32)
    field[0] = 1000.0 * (truth > 0)
    cells = np.zeros(shape, bool)
    for centre in [(30, 30), (30, 47), (60, 75)]:
        cells[disk(centre, 15, shape=shape)] = True
    field[1:] = 400.0 * cells
    return field + rng.normal(100, 10, field.shape).astype(np.float32), truth


def test_touching_nuclei_are_split_and_match_the_planted_ones() -> None:
    field, truth = planted_field(np.random.default_rng(0))
    nuclei = segment_nuclei(field[0], NucleiConfig())
    assert nuclei.max() == 3
    counts = match_instances(truth, nuclei, ignore_border=False)
    assert counts.f1 == 1.0 and counts.mean_matched_iou > 0.85
    assert segment_nuclei(field[0], NucleiConfig(declump="none")).max() == 2  # the pair stays merged


def test_cells_keep_their_nucleus_id_and_contain_it() -> None:
    field, _ = planted_field(np.random.default_rng(1))
    nuclei, cells = segment_cells(field[1] + field[2], segment_nuclei(field[0], NucleiConfig()), CellConfig())
    assert cells.max() == 3
    inside = nuclei > 0
    assert np.all(cells[inside] == nuclei[inside])
    assert all((cells == i).sum() > 2 * (nuclei == i).sum() for i in range(1, 4))


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (lambda f: np.zeros_like(f), "blank"),
        (lambda f: np.full_like(f, 65535.0), "blank"),  # saturated
        (lambda f: np.where(np.arange(f.shape[2]) < 3, np.nan, f), "nonfinite"),
        (lambda f: np.random.default_rng(0).normal(100, 1, f.shape).astype(np.float32), "empty"),
    ],
)
def test_degenerate_fields_do_not_crash(make, status: str) -> None:
    field, _ = planted_field(np.random.default_rng(2))
    nuclei, cells, got = segment_field(make(field), CHANNELS, SegmentConfig())
    assert got == status
    if status == "nonfinite":
        assert cells.max() == 3
    else:
        assert cells.max() == 0


def test_pair_objects_shares_ids_and_drops_orphans() -> None:
    nuclei = np.array([[1, 0, 2, 0, 3]])
    cells = np.array([[7, 7, 0, 4, 4]])  # nucleus 2 lies outside every cell; cell 4 holds nucleus 3
    paired_nuclei, paired_cells = pair_objects(nuclei, cells)
    assert paired_cells.tolist() == [[2, 2, 0, 1, 1]]
    assert paired_nuclei.tolist() == [[2, 0, 0, 0, 1]]


def test_unknown_channel_and_missing_cellpose_fail_before_work() -> None:
    with pytest.raises(ValueError, match=r"channel 'Mito' not in the data's channels"):
        SegmentConfig(nuclei_channel="Mito").check(CHANNELS)
    if importlib.util.find_spec("cellpose") is None:
        with pytest.raises(ImportError, match="pip install cellpose"):
            SegmentConfig(backend="cellpose").check(CHANNELS)


STARDIST = importlib.util.find_spec("stardist")


@pytest.mark.skipif(STARDIST is None, reason="stardist's bundled test image is absent (pip install --no-deps stardist)")
def test_real_annotated_nuclei_from_the_data_science_bowl() -> None:
    """stardist ships a real fluorescence image with hand-made masks (2018 DSB, Caicedo et al.)."""
    images = Path(STARDIST.submodule_search_locations[0]) / "data" / "images"
    image, truth = tifffile.imread(images / "img2d.tif"), tifffile.imread(images / "mask2d.tif")
    counts = match_instances(truth, segment_nuclei(image.astype(np.float32), NucleiConfig()))
    assert counts.f1 >= 0.72 and counts.mean_matched_iou >= 0.75
