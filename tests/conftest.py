"""Shared fixtures. Fixtures are made in code: the phantom, small TIFFs, temp projects."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from cell_dino.data.phantom import generate_phantom

REPO = Path(__file__).resolve().parents[1]
SHARED_BBBC021 = Path(os.environ.get("CELL_DINO_SHARED", REPO.parent / "shared")) / "data" / "bbbc021"


@pytest.fixture(scope="session")
def shared_bbbc021() -> Path:
    """The real BBBC021 metadata and Ljosa profiles in ../shared (required in CI)."""
    if not SHARED_BBBC021.is_dir():
        pytest.fail(f"{SHARED_BBBC021} not found: the real BBBC021 metadata must sit in ../shared")
    return SHARED_BBBC021


@pytest.fixture(scope="session")
def test_phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``test`` preset phantom, generated once per session (read-only for tests)."""
    return generate_phantom(tmp_path_factory.mktemp("phantom") / "screen", "test", seed=0)


def write_tiff(path: Path, shape: tuple[int, int] = (24, 32), value: int = 1000, dtype=np.uint16) -> Path:
    """A small single-channel TIFF with a ramp, so files differ."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = (value + np.arange(np.prod(shape)).reshape(shape) % 50).astype(dtype)
    tifffile.imwrite(path, image)
    return path
