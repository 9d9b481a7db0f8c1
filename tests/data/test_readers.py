from pathlib import Path

import numpy as np
import pytest
import tifffile

from cell_dino.data.errors import ImageReadError
from cell_dino.data.readers import BlankChannelError, image_header, read_fov, read_image
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


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.uint32, np.int32, np.float16, np.float32, np.float64])
def test_every_real_bit_depth_is_read_and_a_field_is_float32(tmp_path: Path, dtype: type) -> None:
    values = (np.arange(64).reshape(8, 8) % 60 + 2).astype(dtype)
    tifffile.imwrite(tmp_path / "a.tif", values)
    assert read_image(tmp_path / "a.tif").dtype == dtype
    field = read_fov([tmp_path / "a.tif"])
    assert field.dtype == np.float32 and field[0, 7, 7] == float(values[7, 7])


def test_unexpected_dtype_and_shape_are_named(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "c64.tif", np.zeros((8, 8), np.complex64))
    with pytest.raises(ImageReadError, match=r"c64\.tif: unexpected dtype complex64"):
        read_image(tmp_path / "c64.tif")
    tifffile.imwrite(tmp_path / "rgb.tif", np.zeros((8, 8, 3), np.uint8), photometric="rgb")
    with pytest.raises(ImageReadError, match=r"rgb\.tif: axis S of length 3 \(axes YXS"):
        read_image(tmp_path / "rgb.tif")


def test_channels_of_different_shapes_name_both_files(tmp_path: Path) -> None:
    a = write_tiff(tmp_path / "a.tif", shape=(8, 8))
    b = write_tiff(tmp_path / "b.tif", shape=(8, 9))
    with pytest.raises(ImageReadError, match=r"b\.tif: channel shape \(8, 9\) differs from .*a\.tif"):
        read_fov([a, b])
    assert read_fov([a, a]).shape == (2, 8, 8)


def test_non_finite_pixels_are_an_error_of_the_file(tmp_path: Path) -> None:
    """One NaN block in a float TIFF: a data error naming the file, never stored."""
    image = np.full((32, 32), 100.0, np.float32)
    image[4:14, 6:16] = np.nan
    tifffile.imwrite(tmp_path / "dna.tif", image)
    with pytest.raises(ImageReadError, match=r"dna\.tif: 100 non-finite pixel\(s\) \(NaN or inf\), the first at row 4, column 6"):
        read_image(tmp_path / "dna.tif")


def test_a_blank_channel_names_its_file_and_position(tmp_path: Path) -> None:
    """A failed stain: every pixel 0."""
    good = write_tiff(tmp_path / "dna.tif", shape=(8, 8))
    tifffile.imwrite(tmp_path / "actin.tif", np.zeros((8, 8), np.uint16))
    with pytest.raises(BlankChannelError, match=r"actin\.tif: blank channel, no signal \(every pixel is 0,") as error:
        read_fov([good, tmp_path / "actin.tif"])
    assert error.value.channel == 1


def test_the_header_gives_shape_and_pixel_type_without_decoding(tmp_path: Path) -> None:
    assert image_header(write_tiff(tmp_path / "a.tif", shape=(24, 40))) == ((24, 40), np.dtype(np.uint16))
    assert image_header(tmp_path / "absent.tif") is None


def test_a_channel_of_zeros_with_a_hot_pixel_is_still_blank_and_float64_overflow_is_named(tmp_path: Path) -> None:
    """A failed stain with one hot pixel passed the every-pixel-equal check; a float64 value beyond
    float32 became inf only after the cast, and the run failed naming no file."""
    good = write_tiff(tmp_path / "dna.tif", shape=(64, 64))
    zeros = np.zeros((64, 64), np.uint16)
    zeros[3, 4] = 4095
    tifffile.imwrite(tmp_path / "actin.tif", zeros)
    with pytest.raises(BlankChannelError, match=r"actin\.tif: blank channel"):
        read_fov([good, tmp_path / "actin.tif"])
    big = np.random.default_rng(1).random((64, 64)) * 100
    big[10, 10] = 1e39
    tifffile.imwrite(tmp_path / "tubulin.tif", big)
    tifffile.imwrite(tmp_path / "dna64.tif", np.random.default_rng(0).random((64, 64)))
    with pytest.raises(ImageReadError, match=r"tubulin\.tif: pixel values beyond the float32 range"):
        read_fov([tmp_path / "dna64.tif", tmp_path / "tubulin.tif"])
