"""Identities of outputs: a store gets a new generation each time it is written, and a job that
reads it records that generation (and the identity of the files it reads) in its fingerprint,
so that resuming never mixes results made from other inputs."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any


def new_generation() -> str:
    """A fresh identity for an output being written."""
    return uuid.uuid4().hex


def file_identity(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Path, size and modification time (ns) of a file: changes whenever it is rewritten."""
    stat = Path(path).stat()
    return {"path": str(Path(path).resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def fingerprint(record: dict[str, Any]) -> str:
    """A stable hash of a JSON-able record (keys sorted; other values as text)."""
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()
