"""Phantom screens of a chosen number of plates, shared by the benchmarks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cell_dino.phantom import PRESETS, generate_phantom
from cell_dino.phantom import presets as phantom_presets


def phantom_with_plates(plates: int, workdir: Path) -> Path:
    """The demo screen in one batch of ``plates`` plates: every plate holds every treatment."""
    name = f"bench{plates}"
    phantom_presets.PRESETS[name] = dataclasses.replace(PRESETS["demo"], batches=1, plates_per_batch=plates, concentrations=(1.0,))
    return generate_phantom(workdir / name, name, seed=0)
