"""The WTC-11 adapter on a miniature of the real manifest, z-stack reading (channel choice, max
projection), centring crops on one canvas, and the crops' own masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from cell_dino.data import manifest as mf
from cell_dino.data.adapters.wtc11 import read_wtc11
from cell_dino.data.errors import ImageReadError, ManifestError
from cell_dino.data.readers import image_header, read_fov, read_image
from cell_dino.ingest.normalisation import centre_pad
from cell_dino.segment.segment_fovs import mask_sources, provided_masks
from tests.wtc11_miniature import PER_STAGE, write_miniature


def test_a_zcyx_stack_gives_the_chosen_channel_max_projected(tmp_path: Path) -> None:
    stack = np.zeros((4, 3, 5, 6), np.uint16)
    stack[1, 2, 0, 0], stack[3, 2, 0, 0], stack[2, 0, 4, 5] = 7, 9, 5  # z 3 is the brightest of channel 2 at (0, 0)
    tifffile.imwrite(tmp_path / "cell.ome.tif", stack, metadata={"axes": "ZCYX"}, ome=True)
    assert read_image(tmp_path / "cell.ome.tif", 2)[0, 0] == 9 and read_image(tmp_path / "cell.ome.tif", 0)[4, 5] == 5
    assert image_header(tmp_path / "cell.ome.tif") == ((5, 6), np.dtype(np.uint16))
    with pytest.raises(ImageReadError, match=r"cell\.ome\.tif: 3 channels \(axes ZCYX\); the manifest must name one"):
        read_image(tmp_path / "cell.ome.tif")
    with pytest.raises(ImageReadError, match="channel 3 asked, the file has 3"):
        read_image(tmp_path / "cell.ome.tif", 3)
    tifffile.imwrite(tmp_path / "z.tif", stack[:, 0], metadata={"axes": "ZYX"}, ome=True)
    np.testing.assert_array_equal(read_image(tmp_path / "z.tif"), stack[:, 0].max(axis=0))


def test_centre_pad_centres_smaller_images_and_cuts_larger_ones_about_their_centre() -> None:
    image = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    padded = centre_pad(image, (5, 6))
    assert padded.shape == (1, 5, 6) and padded[0, 1, 1] == 0 and padded[0, 1:4, 1:5].tolist() == image[0].tolist()
    assert centre_pad(image, (1, 2))[0].tolist() == [[5, 6]]


def test_manifest_of_real_cells_names_channels_planes_masks_and_stages(tmp_path: Path) -> None:
    write_miniature(tmp_path)
    manifest = read_wtc11(tmp_path)
    assert len(manifest) == 6 * PER_STAGE and manifest["Metadata_CellId"].iloc[0] == "230746"  # the annotation table's first cell
    assert manifest.groupby("Metadata_CellStage")["Metadata_CellStageOrder"].first().to_dict() == {
        "M0": 0, "M1M2": 1, "M3": 2, "M4M5": 3, "M6M7_complete": 4, "M6M7_single": 5
    }
    row = manifest.iloc[0]
    channels = mf.channels_of(manifest)
    assert mf.image_planes(row, channels) == [0, 1, 2] and len(set(mf.image_paths(row, channels))) == 1  # one file, three channels
    mf.validate_manifest(manifest, channels, ["Metadata_FOVId"], "metadata.csv")  # one file for three channels is no error here
    field = read_fov(mf.image_paths(row, channels), mf.image_planes(row, channels))
    nucleus, cell, status = provided_masks(mask_sources(manifest.head(1))[0], (64, 64))
    assert status == "ok" and nucleus.sum() < cell.sum() and (nucleus <= cell).all()
    dna = centre_pad(field, (64, 64))[0]  # as ingest centres the crop: the masks fall on their cell
    assert dna[nucleus > 0].mean() > 5 * dna[(cell == 0) & (dna > 0)].mean()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.assign(name_dict=["{'crop_raw': ['dna']"] + t["name_dict"].tolist()[1:]), r"row 0: name_dict .* is not a dict literal"),
        (lambda t: t.assign(name_dict=str({"crop_raw": ["dna", "membrane"], "crop_seg": ["dna_segmentation", "membrane_segmentation"]})), r"row 0: channel 'structure' is not in name_dict\['crop_raw'\]"),
        (lambda t: t.assign(cell_stage=["M8"] + t["cell_stage"].tolist()[1:]), r"row 0: cell_stage 'M8' is none of"),
        (lambda t: t.drop(columns="crop_seg"), r"required column\(s\) absent: \['crop_seg'\]"),
    ],
)
def test_bad_manifests_name_the_row_or_column(tmp_path: Path, change, message: str) -> None:
    table = write_miniature(tmp_path)
    change(table).to_csv(tmp_path / "metadata.csv", index=False)
    with pytest.raises(ManifestError, match=message):
        read_wtc11(tmp_path)


def test_provided_masks_need_their_columns() -> None:
    with pytest.raises(ValueError, match=r"backend: provided, but the FOV table has no \['Metadata_NucleusMask', 'Metadata_CellMask'\]"):
        mask_sources(pd.DataFrame({"Metadata_FOV": ["1"]}))


def test_provided_masks_refuse_fields_ingest_resized_or_downscaled() -> None:
    """The masks are read at the crops' own scale: on downscaled fields they were silently out of
    register (cell areas up to 878 px in 32 x 32 fields)."""
    from types import SimpleNamespace

    from cell_dino.segment.segment_fovs import SegmentConfig
    from cell_dino.segment.segmentation_job import SegmentationJob

    table = pd.DataFrame({"Metadata_FOV": ["1"], "Metadata_NucleusMask": ["m.tif#0"], "Metadata_CellMask": ["m.tif#1"]})
    for preprocess, refused in (({"resize_to": None, "downscale": 2}, True), ({"resize_to": [32, 32], "downscale": 1}, True), ({"resize_to": None, "downscale": 1}, False)):
        store = SimpleNamespace(channels=None, keys=["1"], attrs={"preprocess": preprocess}, images=None)
        if refused:
            with pytest.raises(ValueError, match="backend: provided reads the masks at the images' own scale"):
                SegmentationJob(store, table, SegmentConfig(backend="provided"))
        else:
            assert SegmentationJob(store, table, SegmentConfig(backend="provided")).masks == [(("m.tif", 0), ("m.tif", 1))]
