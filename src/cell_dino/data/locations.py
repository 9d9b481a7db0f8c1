"""Where a file is: a local path, or a URL (``s3://``, ``gs://``, ``https://``: LoadData's ``URL_``
columns, the Cell Painting Gallery) opened through fsspec with the protocol's own package (s3fs for
S3; credentials and endpoints from the environment, e.g. ``AWS_PROFILE``, ``FSSPEC_S3_ENDPOINT_URL``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import fsspec

Location = str | Path


def is_url(location: Location) -> bool:
    return "://" in str(location)


def resolve(root: Location, location: Location) -> str:
    """``location`` as it is when it is a URL or an absolute path, else taken from ``root``."""
    if is_url(location) or Path(location).is_absolute():
        return str(location)
    return join(root, str(location))


def join(directory: Location, name: str) -> str:
    """``directory/name``; a URL keeps its ``//`` (``Path`` would make ``s3:/bucket``)."""
    if is_url(directory):
        return f"{str(directory).rstrip('/')}/{name}"
    return str(Path(directory) / name)


def split(location: Location) -> tuple[str, str]:
    """``(directory, name)`` of a file location (a URL split at its last ``/``)."""
    text = str(location)
    if is_url(text):
        directory, _, name = text.rpartition("/")
        return directory, name
    return str(Path(text).parent), Path(text).name


@contextmanager
def opened(location: Location) -> Iterator[BinaryIO | Path]:
    """A local file as its ``Path``, a URL as an fsspec file object (read lazily, seekable);
    raises ``FileNotFoundError`` naming the location when it is not there."""
    if not is_url(location):
        path = Path(location)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: file not found")
        yield path
        return
    try:
        handle = fsspec.open(str(location), "rb").open()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{location}: file not found") from exc
    with handle:
        yield handle
