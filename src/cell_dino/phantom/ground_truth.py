"""Reading the phantom's ground-truth masks, at the resolution of a (possibly downscaled) store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile


def truth_masks(root: Path, plate: str, well: str, site: int, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """``(nuclei, cells)`` of one field subsampled to ``shape``; None when the files are absent."""
    folder = Path(root) / plate
    paths = [folder / f"{well}_s{site}_{kind}.tif" for kind in ("nuclei", "cells")]
    if not all(p.is_file() for p in paths):
        return None
    nuclei, cells = (tifffile.imread(p) for p in paths)
    step = nuclei.shape[0] // shape[0]
    return nuclei[::step, ::step][: shape[0], : shape[1]], cells[::step, ::step][: shape[0], : shape[1]]
