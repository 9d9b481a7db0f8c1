"""Reading single-channel images and whole fields of view, with errors that name the file.

A TIFF may hold more than one plane: a channel (``C``) is chosen by its index and a z-stack
(``Z``) is max-projected (the Allen WTC-11 crops are ``Z x C x Y x X`` OME-TIFFs; DINO4Cells
max-projects them). Any real bit depth is read (8-, 12-, 16- and 32-bit integers, 16-, 32- and 64-bit floats); a field
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
from cell_dino.data.locations import Location, opened

TIFF_SUFFIXES = {".tif", ".tiff"}
BIOIO_SUFFIXES = {".zarr", ".nd2", ".czi", ".lif"}  # read through bioio and its format plugin (OME-Zarr: bioio-ome-zarr)
ZARR_METADATA = ("zarr.json", ".zgroup", ".zattrs")  # a zarr v3 or v2 group
BLANK_SHARE = 0.001  # a channel whose pixels all equal one value except this share (hot pixels) has no signal


class BlankChannelError(ImageReadError):
    """A channel of a field with no signal: every pixel has the same value."""

    def __init__(self, message: str, channel: int) -> None:
        super().__init__(message)
        self.channel = channel  # position in the field's channel list

    def __reduce__(self) -> tuple:  # raised in worker processes: rebuilt with its channel
        return BlankChannelError, (str(self), self.channel)


def _check_tiff_complete(name: str, tif: tifffile.TiffFile) -> None:
    size = tif.filehandle.size
    page = tif.pages.first
    ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts)]
    if not ends or max(ends) > size:
        raise ImageReadError(f"{name}: truncated TIFF (image data ends past the file's {size} bytes)")


def _is_tiff(location: Location) -> bool:
    return Path(str(location)).suffix.lower() in TIFF_SUFFIXES


def _is_zarr(name: str) -> bool:
    """An OME-Zarr store: named ``*.zarr``, or a local folder holding zarr metadata (an NGFF plate's
    field folder, ``plate.ome.zarr/A/1/0``, has no suffix)."""
    folder = Path(name)
    return name.lower().endswith(".zarr") or ("://" not in name and any((folder / f).is_file() for f in ZARR_METADATA))


def _is_bioio(location: Location) -> bool:
    name = str(location).rstrip("/")
    return Path(name).suffix.lower() in BIOIO_SUFFIXES or _is_zarr(name)


def open_microscope_file(location: Location):
    """A microscope file (OME-TIFF, OME-Zarr, ND2, CZI: bioio picks the plugin by its name) holding
    one field of view, as a ``bioio.BioImage``. Raises :class:`ImageReadError` naming the file:
    absent, no plugin reads it, several scenes (fields) in it, or an OME-Zarr with chunks missing."""
    from bioio import BioImage

    name = str(location).rstrip("/")
    reader = None
    if _is_zarr(name):
        from bioio_ome_zarr import Reader as reader  # chosen by hand: a plate's field folder has no suffix to pick it by
    if "://" not in name and not Path(name).exists():
        raise ImageReadError(f"{name}: image file not found")
    try:
        image = BioImage(name, reader=reader) if reader else BioImage(name)
        scenes = list(image.scenes)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's
        raise ImageReadError(f"{name}: not readable as a microscope file ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from exc
    if len(scenes) > 1:
        raise ImageReadError(f"{name}: {len(scenes)} scenes {scenes[:4]}; one field of view per file is read (write each scene to a file of its own)")
    if reader is not None:
        _require_zarr_chunks(name)
    return image


def _require_zarr_chunks(name: str) -> None:
    """Raise :class:`ImageReadError` when the full-resolution array of the OME-Zarr image ``name``
    lacks chunks: zarr reads a missing chunk as its fill value, so an incomplete copy would be blank
    pixels, not an error."""
    import zarr

    group = zarr.open_group(name, mode="r")
    multiscales = dict(group.attrs).get("ome", dict(group.attrs)).get("multiscales")
    if not multiscales:
        return  # not an OME image (bioio has read it as such already, or said why not)
    level = multiscales[0]["datasets"][0]["path"]
    array = group[level]
    missing = array.nchunks - array.nchunks_initialized
    if missing:
        raise ImageReadError(
            f"{name}: {missing} of {array.nchunks} chunks of its full-resolution array ({level}) are missing: an incomplete copy? "
            "(zarr would read them as the fill value; a writer that leaves chunks of only the fill value unwritten needs write_empty_chunks)"
        )


def _bioio_plane(location: Location, plane: int | None) -> np.ndarray:
    """The ``Y x X`` image of channel ``plane`` of a bioio file (its one scene and first timepoint),
    max-projected over ``Z``."""
    image = open_microscope_file(location)
    channels = image.dims.C
    if plane is None and channels > 1:
        raise ImageReadError(f"{location}: {channels} channels ({[str(c) for c in image.channel_names]}); the manifest must name one (Plane_<channel>)")
    if plane is not None and not 0 <= plane < channels:
        raise ImageReadError(f"{location}: channel {plane} asked, the file has {channels}")
    if image.dims.T > 1:
        raise ImageReadError(f"{location}: {image.dims.T} timepoints; only single-timepoint fields are read")
    return np.asarray(image.get_image_data("ZYX", C=plane or 0, T=0)).max(axis=0)


def _is_real(dtype: np.dtype) -> bool:
    return dtype != np.bool_ and (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating))


def tiff_plane(tif: tifffile.TiffFile, name: str, plane: int | None) -> np.ndarray:
    """The ``Y x X`` image of a TIFF: channel ``plane`` of its ``C`` axis (required when there are
    several), max-projected over ``Z``; other axes must have length 1."""
    series = tif.series[0]
    image, axes = series.asarray(), series.axes
    for axis in axes:
        if axis not in "CZYX" and image.shape[axes.index(axis)] != 1:
            raise ImageReadError(f"{name}: axis {axis} of length {image.shape[axes.index(axis)]} (axes {axes}, shape {image.shape}); only C and Z are read")
    image = image.reshape([n for n, a in zip(image.shape, axes) if a in "CZYX"])
    axes = "".join(a for a in axes if a in "CZYX")
    if "C" in axes:
        channels = image.shape[axes.index("C")]
        if plane is None and channels > 1:
            raise ImageReadError(f"{name}: {channels} channels (axes {axes}); the manifest must name one (Plane_<channel>)")
        if plane is not None and not 0 <= plane < channels:
            raise ImageReadError(f"{name}: channel {plane} asked, the file has {channels}")
        image = np.take(image, plane or 0, axis=axes.index("C"))
        axes = axes.replace("C", "")
    elif plane not in (None, 0):
        raise ImageReadError(f"{name}: channel {plane} asked of a single-channel file")
    return image.max(axis=axes.index("Z")) if "Z" in axes else image


def image_header(location: Location) -> tuple[tuple[int, ...], np.dtype] | None:
    """The ``(height, width)`` and pixel type an image file declares in its header, without
    decoding it (None if unreadable: the file is reported when it is read). ``location``: a path or a URL."""
    try:
        if _is_bioio(location):
            image = open_microscope_file(location)
            return (image.dims.Y, image.dims.X), np.dtype(image.dtype)
        with opened(location) as source:
            if _is_tiff(location):
                with tifffile.TiffFile(source) as tif:
                    series = tif.series[0]
                    return tuple(series.shape[series.axes.index(a)] for a in "YX"), np.dtype(series.dtype)
            with Image.open(source) as handle:
                return (handle.height, handle.width), np.asarray(handle.crop((0, 0, 1, 1))).dtype
    except Exception:  # noqa: BLE001
        return None


def read_image(location: Location, plane: int | None = None) -> np.ndarray:
    """Read one 2-D image (TIFF, PNG, or through bioio an OME-Zarr, ND2 or CZI file) as stored (any
    integer or float depth), from a path or a URL (``s3://...``, through fsspec); of a multi-channel
    file the channel ``plane``, of a z-stack its maximum projection.

    Raises :class:`ImageReadError` naming the file when it is missing, truncated, undecodable,
    not 2-D, of a non-numeric type, or holds non-finite pixels (NaN, inf)."""
    name = str(location)
    try:
        if _is_bioio(location):
            image = _bioio_plane(location, plane)
        else:
            with opened(location) as source:
                if _is_tiff(location):
                    with tifffile.TiffFile(source) as tif:
                        _check_tiff_complete(name, tif)
                        image = tiff_plane(tif, name, plane)
                else:
                    with Image.open(source) as handle:
                        handle.load()
                        image = np.asarray(handle)
    except ImageReadError:
        raise
    except FileNotFoundError as exc:
        raise ImageReadError(f"{name}: image file not found") from exc
    except Exception as exc:  # every decoder error means the same thing to the user
        raise ImageReadError(f"{name}: unreadable or truncated image ({type(exc).__name__}: {exc})") from exc
    return _checked(name, image)


def _checked(name: str, image: np.ndarray) -> np.ndarray:
    """``image`` if it is a 2-D image of real, finite pixels; else :class:`ImageReadError` naming the file."""
    if image.ndim != 2:
        raise ImageReadError(f"{name}: expected a single-channel 2-D image, got shape {image.shape}")
    if not _is_real(image.dtype):
        raise ImageReadError(f"{name}: unexpected dtype {image.dtype} (integer or floating-point pixels expected)")
    if np.issubdtype(image.dtype, np.floating):
        bad = ~np.isfinite(image)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ImageReadError(f"{name}: {int(bad.sum())} non-finite pixel(s) (NaN or inf), the first at row {row}, column {col}")
    return image


def read_fov(paths: Sequence[Location], file_channels: Sequence[int | None] | None = None) -> np.ndarray:
    """Read one field of view, one file (and channel of it, ``file_channels``) per channel, as a
    ``C x H x W`` float32 array.

    Raises :class:`ImageReadError` naming the file at fault (other shape or pixel type than the
    first channel, values beyond float32), and :class:`BlankChannelError` for a channel without
    signal: all but ``BLANK_SHARE`` of its pixels the same (a failed stain, hot pixels aside)."""
    planes = [read_image(p, k) for p, k in zip(paths, file_channels or [None] * len(paths), strict=True)]
    for path, plane in zip(paths[1:], planes[1:]):
        if plane.shape != planes[0].shape or plane.dtype != planes[0].dtype:
            raise ImageReadError(f"{path}: channel shape {plane.shape} differs from {paths[0]} with shape {planes[0].shape}"
                                 if plane.shape != planes[0].shape else f"{path}: {plane.dtype} pixels differ from {paths[0]}'s {planes[0].dtype}")
    for channel, (path, plane) in enumerate(zip(paths, planes)):
        low, high = np.percentile(plane, [100 * BLANK_SHARE, 100 * (1 - BLANK_SHARE)])
        if low == high:
            raise BlankChannelError(f"{path}: blank channel, no signal (every pixel is {low:g}, but for {BLANK_SHARE:.1%} at most)", channel)
    field = np.stack(planes).astype(np.float32, copy=False)
    if not np.isfinite(field).all():
        raise ImageReadError(f"{paths[int(np.argwhere(~np.isfinite(field))[0][0])]}: pixel values beyond the float32 range")
    return field
