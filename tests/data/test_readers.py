from pathlib import Path

import numpy as np
import pytest
import tifffile

from cell_dino.data.errors import ImageReadError
from cell_dino.data.readers import read_fov, read_image
from tests.conftest import write_tiff


def test_reads_uint16_as_stored(tmp_path: Path) -> None:
    image = read_image(write_tiff(tmp_path / "a.tif", value=40000))
    assert image.dtype == np.uint16 and image.shape == (24, 32) and image[0, 0] == 40000


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match=r"nope\.tif: image file not found"):
        read_image(tmp_path / "nope.tif")


def test_truncated_tiff_is_named(tmp_path: Path) -> None:
    path = write_tiff(tmp_path / "t.tif", shape=(64, 64))
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ImageReadError, match=r"t\.tif: truncated TIFF"):
        read_image(path)


def test_garbage_png_is_named(tmp_path: Path) -> None:
    path = tmp_path / "g.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(ImageReadError, match=r"g\.png: unreadable or truncated image"):
        read_image(path)


def test_unexpected_dtype_and_shape_are_named(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "i32.tif", np.zeros((8, 8), np.int32))
    with pytest.raises(ImageReadError, match=r"i32\.tif: unexpected dtype int32"):
        read_image(tmp_path / "i32.tif")
    tifffile.imwrite(tmp_path / "rgb.tif", np.zeros((8, 8, 3), np.uint8), photometric="rgb")
    with pytest.raises(ImageReadError, match=r"rgb\.tif: expected a single-channel 2-D image"):
        read_image(tmp_path / "rgb.tif")


def test_channels_of_different_shapes_name_both_files(tmp_path: Path) -> None:
    a = write_tiff(tmp_path / "a.tif", shape=(8, 8))
    b = write_tiff(tmp_path / "b.tif", shape=(8, 9))
    with pytest.raises(ImageReadError, match=r"b\.tif: channel shape \(8, 9\) differs from .*a\.tif"):
        read_fov([a, b])
    assert read_fov([a, a]).shape == (2, 8, 8)
