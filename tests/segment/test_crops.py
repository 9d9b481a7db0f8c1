import numpy as np
import pytest
from skimage.draw import disk

from cell_dino.segment.crops import cell_geometry, crop_cells


def two_cells() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cells = np.zeros((40, 50), np.int32)
    cells[disk((20, 25), 6)] = 1
    cells[disk((3, 3), 5, shape=cells.shape)] = 2  # in the corner: touches the border
    nuclei = np.where(np.isin(cells, [1, 2]), cells, 0) * (np.indices(cells.shape).sum(0) % 2 == 0)
    field = np.stack([cells * 10.0 + 1, np.full(cells.shape, 5.0)]).astype(np.float32)
    return field, nuclei, cells


def test_geometry_areas_and_border_flag() -> None:
    _, nuclei, cells = two_cells()
    geometry = cell_geometry(nuclei, cells)
    assert geometry["label"].tolist() == [1, 2]
    assert geometry["cell_area"].tolist() == [int((cells == 1).sum()), int((cells == 2).sum())]
    assert geometry["nucleus_area"].tolist() == [int((nuclei == 1).sum()), int((nuclei == 2).sum())]
    assert geometry["touches_border"].tolist() == [False, True]
    assert geometry.loc[0, ["centroid_y", "centroid_x"]].tolist() == pytest.approx([20, 25])


def test_masked_crops_are_centred_and_zero_outside_the_cell() -> None:
    field, nuclei, cells = two_cells()
    geometry = cell_geometry(nuclei, cells)
    crops = crop_cells(field, cells, geometry, size=16, mode="masked")
    assert crops.shape == (2, 2, 16, 16)
    ys, xs = np.nonzero(crops[0, 1])
    assert (ys.mean(), xs.mean()) == pytest.approx((8, 8), abs=0.5)
    assert (crops[0, 1] > 0).sum() == (cells == 1).sum()  # the whole cell, nothing else
    corner = crops[1, 1]
    assert (corner > 0).sum() == (cells == 2).sum() and corner[:4, :4].sum() == 0  # zero padding


def test_context_crops_keep_the_neighbourhood() -> None:
    field, nuclei, cells = two_cells()
    crop = crop_cells(field, cells, cell_geometry(nuclei, cells), size=16, mode="context")[0]
    assert np.all(crop[1] == 5.0)
    with pytest.raises(ValueError, match="unknown crop mode"):
        crop_cells(field, cells, cell_geometry(nuclei, cells), size=16, mode="whole")
