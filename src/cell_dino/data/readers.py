"""Reading single-channel images and whole fields of view, with errors that name the file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from cell_dino.data.errors import ImageReadError

SUPPORTED_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))
TIFF_SUFFIXES = {".tif", ".tiff"}


def _check_tiff_complete(path: Path, tif: tifffile.TiffFile) -> None:
    size = path.stat().st_size
    page = tif.pages.first
    ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts)]
    if not ends or max(ends) > size:
        raise ImageReadError(f"{path}: truncated TIFF (image data ends past the file's {size} bytes)")


def read_image(path: str | Path) -> np.ndarray:
    """Read one single-channel 2-D image (TIFF or PNG) as stored (uint8, uint16 or float32)."""
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
    if image.dtype not in SUPPORTED_DTYPES:
        raise ImageReadError(
            f"{path}: unexpected dtype {image.dtype} (supported: {[str(d) for d in SUPPORTED_DTYPES]})"
        )
    return image


def read_fov(paths: Sequence[str | Path]) -> np.ndarray:
    """Read one field of view, one file per channel, as a ``C x H x W`` float32 array."""
    planes = [read_image(p) for p in paths]
    first = planes[0].shape
    for path, plane in zip(paths[1:], planes[1:]):
        if plane.shape != first:
            raise ImageReadError(
                f"{path}: channel shape {plane.shape} differs from {paths[0]} with shape {first}"
            )
    return np.stack(planes).astype(np.float32, copy=False)
