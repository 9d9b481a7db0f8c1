"""Optional Cellpose backend for nuclei and cells (used where the package is installed)."""

from __future__ import annotations

import importlib.util
from functools import cache

import numpy as np

INSTALL_HINT = "pip install cellpose   (then set segment.backend: cellpose; the model weights download once)"


def require_cellpose() -> None:
    """Raise a clear error, saying how to install it, when cellpose is absent."""
    if importlib.util.find_spec("cellpose") is None:
        raise ImportError(f"segment.backend is 'cellpose' but the cellpose package is not installed: {INSTALL_HINT}")


@cache
def _model(use_gpu: bool):
    from cellpose import models

    return models.CellposeModel(gpu=use_gpu)


def segment_with_cellpose(dna: np.ndarray, cytoplasm: np.ndarray, diameter: float | None, use_gpu: bool) -> tuple[np.ndarray, np.ndarray]:
    """Nuclei from the DNA channel and cells from cytoplasm + DNA, with one generalist model."""
    require_cellpose()
    model = _model(use_gpu)
    nuclei = model.eval(dna, diameter=diameter)[0].astype(np.int32)
    cells = model.eval(np.stack([cytoplasm, dna], axis=-1), diameter=diameter)[0].astype(np.int32)
    return nuclei, cells
