"""A synthetic Cell Painting-like screen written in the exact BBBC021 layout, with ground truth."""

from cell_dino.phantom.presets import PRESETS, PhantomPreset
from cell_dino.phantom.writer import generate_phantom

__all__ = ["PRESETS", "PhantomPreset", "generate_phantom"]
