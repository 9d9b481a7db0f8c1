"""Morphology parameters of a population and how each MoA, compound and dose shifts them."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np


@dataclass(frozen=True)
class Phenotype:
    """Mean morphology of the cells in one well. Lengths in pixels, rates per cell."""

    nucleus_radius: float = 7.0
    nucleus_aspect: float = 1.25
    chromatin_condensation: float = 0.25
    micronuclei: float = 0.03
    cell_radius: float = 15.0
    cell_elongation: float = 1.35
    tubulin_bundling: float = 0.0
    tubulin_loss: float = 0.0
    actin_fibres: float = 0.6
    actin_puncta: float = 0.0
    mitotic_fraction: float = 0.04
    spindle_poles: float = 2.0
    density: float = 1.0

    def as_array(self) -> np.ndarray:
        return np.array([getattr(self, f.name) for f in fields(self)])

    @classmethod
    def from_array(cls, values: np.ndarray) -> Phenotype:
        return cls(*(float(v) for v in values))

    def clipped(self) -> Phenotype:
        """Keep every parameter in its physical range."""
        return replace(
            self,
            nucleus_radius=max(self.nucleus_radius, 3.0),
            nucleus_aspect=max(self.nucleus_aspect, 1.0),
            chromatin_condensation=float(np.clip(self.chromatin_condensation, 0.0, 1.0)),
            micronuclei=max(self.micronuclei, 0.0),
            cell_radius=max(self.cell_radius, self.nucleus_radius + 3.0),
            cell_elongation=max(self.cell_elongation, 1.0),
            tubulin_bundling=float(np.clip(self.tubulin_bundling, 0.0, 1.5)),
            tubulin_loss=float(np.clip(self.tubulin_loss, 0.0, 1.0)),
            actin_fibres=max(self.actin_fibres, 0.0),
            actin_puncta=max(self.actin_puncta, 0.0),
            mitotic_fraction=float(np.clip(self.mitotic_fraction, 0.0, 0.8)),
            spindle_poles=float(np.clip(round(self.spindle_poles), 0, 4)),
            density=max(self.density, 0.2),
        )


PARAMETER_NAMES = tuple(f.name for f in fields(Phenotype))

# Typical size of a parameter's biological variation: the scale of compound-specific shifts.
PARAMETER_SCALE = Phenotype(
    nucleus_radius=0.8, nucleus_aspect=0.08, chromatin_condensation=0.08, micronuclei=0.04,
    cell_radius=1.2, cell_elongation=0.1, tubulin_bundling=0.12, tubulin_loss=0.08, actin_fibres=0.15,
    actin_puncta=0.12, mitotic_fraction=0.02, spindle_poles=0.0, density=0.08,
).as_array()

# Full-effect shift of each MoA (names as in BBBC021), relative to DMSO.
MOA_SHIFTS: dict[str, dict[str, float]] = {
    "DMSO": {},
    "Microtubule stabilizers": {"tubulin_bundling": 1.2, "mitotic_fraction": 0.25, "spindle_poles": 1.0, "cell_radius": 1.5},
    "Microtubule destabilizers": {"tubulin_loss": 0.9, "mitotic_fraction": 0.3, "spindle_poles": -2.0, "cell_elongation": -0.3, "micronuclei": 0.2},
    "Actin disruptors": {"actin_fibres": -0.6, "actin_puncta": 1.2, "cell_radius": -2.5, "cell_elongation": 0.35},
    "DNA damage": {"nucleus_radius": 2.5, "micronuclei": 0.6, "chromatin_condensation": 0.15, "density": -0.3, "cell_radius": 2.0},
    "Eg5 inhibitors": {"mitotic_fraction": 0.45, "spindle_poles": -1.0, "density": -0.1},
    "Aurora kinase inhibitors": {"nucleus_radius": 3.0, "nucleus_aspect": 0.35, "cell_radius": 4.0, "micronuclei": 0.35, "density": -0.35},
    "Protein synthesis": {"cell_radius": -3.0, "density": -0.4, "chromatin_condensation": 0.3, "actin_fibres": -0.2},
    "DNA replication": {"nucleus_radius": 1.5, "chromatin_condensation": -0.15, "density": -0.3},
    "Protein degradation": {"actin_puncta": 0.6, "chromatin_condensation": 0.35, "cell_radius": 1.5},
    "Kinase inhibitors": {"cell_elongation": 0.6, "actin_fibres": 0.6},
    "Epithelial": {"density": 0.45, "cell_elongation": -0.25, "actin_fibres": 0.3},
    "Cholesterol-lowering": {"cell_radius": 2.0, "actin_fibres": -0.3, "nucleus_aspect": 0.15},
}


def moa_shift(moa: str) -> np.ndarray:
    """Full-effect parameter shift of an MoA as an array aligned with :data:`PARAMETER_NAMES`."""
    if moa not in MOA_SHIFTS:
        raise ValueError(f"unknown phantom MoA {moa!r}; known: {sorted(MOA_SHIFTS)}")
    shift = MOA_SHIFTS[moa]
    return np.array([shift.get(name, 0.0) for name in PARAMETER_NAMES])


def dose_response(concentration: float, ec50: float, hill: float = 1.5) -> float:
    """Fraction of the full effect at ``concentration`` (Hill equation)."""
    if concentration <= 0:
        return 0.0
    return float(concentration**hill / (concentration**hill + ec50**hill))


def treated_phenotype(moa: str, compound_shift: np.ndarray, effect: float, moa_strength: float = 1.0) -> Phenotype:
    """Phenotype of a well: DMSO plus ``effect`` times the MoA shift (times ``moa_strength``) and
    the compound's own shift."""
    base = Phenotype().as_array()
    return Phenotype.from_array(base + effect * (moa_strength * moa_shift(moa) + compound_shift)).clipped()
