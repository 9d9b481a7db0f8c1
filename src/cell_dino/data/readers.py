"""Reading single-channel images and whole fields of view, with errors that name the file.

Any real bit depth is read (8-, 12-, 16- and 32-bit integers, 16-, 32- and 64-bit floats); a field
is returned as float32. Pixels that are not finite and channels without any signal (every pixel
the same: a failed stain or acquisition) are data errors of that file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from cell_dino.data.errors import ImageReadError

TIFF_SUFFIXES = {".tif", ".tiff"}


class BlankChannelError(ImageReadError):
    """A channel of a field with no signal: every pixel has the same value."""

    def __init__(self, message: str, channel: int) -> None:
        super().__init__(message)
        self.channel = channel  # position in the field's channel list


def _check_tiff_complete(path: Path, tif: tifffile.TiffFile) -> None:
    size = path.stat().st_size
    page = tif.pages.first
    ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts)]
    if not ends or max(ends) > size:
        raise ImageReadError(f"{path}: truncated TIFF (image data ends past the file's {size} bytes)")


def _is_real(dtype: np.dtype) -> bool:
    return dtype != np.bool_ and (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating))


def image_shape(path: str | Path) -> tuple[int, ...] | None:
    """The shape an image file declares in its header, without decoding it (None if unreadable)."""
    path = Path(path)
    try:
        if path.suffix.lower() in TIFF_SUFFIXES:
            with tifffile.TiffFile(path) as tif:
                return tuple(tif.pages.first.shape)
        with Image.open(path) as handle:
            return (handle.height, handle.width)
    except Exception:  # noqa: BLE001 - a file that cannot be read is reported when it is read
        return None


def read_image(path: str | Path) -> np.ndarray:
    """Read one single-channel 2-D image (TIFF or PNG) as stored (any integer or float depth).

    Raises :class:`ImageReadError` naming the file when it is missing, truncated, undecodable,
    not 2-D, of a non-numeric type, or holds non-finite pixels (NaN, inf)."""
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: image file not found")
    try:
        if path.suffix.lower() in TIFF_SUFFIXES:
            with tifffile.TiffFile(path) as tif:
                _check_tiff_complete(path, tif)
                image = tif.asarray()
        else:
            with Image.open(path) as handle:
                handle.load()
                image = np.asarray(handle)
    except ImageReadError:
        raise
    except Exception as exc:  # every decoder error means the same thing to the user
        raise ImageReadError(f"{path}: unreadable or truncated image ({type(exc).__name__}: {exc})") from exc
    if image.ndim != 2:
        raise ImageReadError(f"{path}: expected a single-channel 2-D image, got shape {image.shape}")
    if not _is_real(image.dtype):
        raise ImageReadError(f"{path}: unexpected dtype {image.dtype} (integer or floating-point pixels expected)")
    if np.issubdtype(image.dtype, np.floating):
        bad = ~np.isfinite(image)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ImageReadError(f"{path}: {int(bad.sum())} non-finite pixel(s) (NaN or inf), the first at row {row}, column {col}")
    return image


def read_fov(paths: Sequence[str | Path]) -> np.ndarray:
    """Read one field of view, one file per channel, as a ``C x H x W`` float32 array.

    Raises :class:`ImageReadError` naming the file at fault, and :class:`BlankChannelError` for a
    channel whose every pixel is the same."""
    planes = [read_image(p) for p in paths]
    first = planes[0].shape
    for path, plane in zip(paths[1:], planes[1:]):
        if plane.shape != first:
            raise ImageReadError(
                f"{path}: channel shape {plane.shape} differs from {paths[0]} with shape {first}"
            )
    for channel, (path, plane) in enumerate(zip(paths, planes)):
        if plane.min() == plane.max():
            raise BlankChannelError(f"{path}: blank channel, no signal (every pixel is {plane.flat[0]})", channel)
    return np.stack(planes).astype(np.float32, copy=False)
