"""Stores and job outputs on an object store (``s3://``, ``gs://``, through fsspec, with the
endpoint and credentials from fsspec's configuration or the environment) as well as on a local or
shared filesystem.

An object store has no rename, so a remote output is built in a local staging folder (which also
holds its resumable parts) and uploaded when complete, the files its existence is judged by (the
catalog's ``marker``: ``zarr.json``, ``cells.parquet``) last: a reader never sees half an output.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path

import fsspec
import pandas as pd
import zarr

from cell_dino.data.locations import Location, is_url, join

log = logging.getLogger(__name__)


def store_location(path: Location) -> str | Path:
    """A URL as it is, a local path as a ``Path``."""
    return str(path) if is_url(path) else Path(path)


def exists(location: Location) -> bool:
    """Is there a file or folder at ``location`` (a path or a URL)?"""
    if not is_url(location):
        return Path(location).exists()
    fs, path = fsspec.url_to_fs(str(location))
    return fs.exists(path)


def open_group(location: Location) -> zarr.Group:
    """The zarr group at a local path or a URL, read-only."""
    return zarr.open_group(str(location), mode="r")


def read_parquet(location: Location) -> pd.DataFrame:
    """A parquet file at a local path or a URL (through fsspec, as every remote read here; pyarrow's
    own S3 client would ignore fsspec's endpoint and credentials)."""
    if not is_url(location):
        return pd.read_parquet(location)
    fs, path = fsspec.url_to_fs(str(location))
    return pd.read_parquet(path, filesystem=fs)


def staging_folder(url: str) -> Path:
    """The local folder an output for ``url`` is built in: the same for every run of that URL, so
    an interrupted job resumes from the parts it holds."""
    digest = hashlib.sha1(url.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "cell-dino-staging" / digest


def upload(folder: Path, url: str, marker: str) -> None:
    """Copy ``folder`` to ``url``: every file, then the ones matching ``marker`` (a glob relative to
    the folder) last. What was at ``url`` is deleted first (an object store cannot swap two prefixes):
    an upload that fails leaves no marker, so the output reads as absent, not as the old one."""
    fs, root = fsspec.url_to_fs(url)
    if fs.exists(root):
        fs.rm(root, recursive=True)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    last = set(folder.glob(marker))
    for path in [p for p in files if p not in last] + sorted(last):
        fs.put_file(str(path), join(root, path.relative_to(folder).as_posix()))
    log.info("uploaded %d file(s) to %s", len(files), url)
