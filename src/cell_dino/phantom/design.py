"""The plate layout of a phantom screen: compounds, batches, plates, wells and sites.

As in BBBC021, every compound sits in one batch except the positive control (taxol), which is on
every plate, and DMSO control wells are on every plate. Compounds of one MoA are spread over
batches so that matching across batches (NSCB) is possible, except for the first
``moas_in_one_batch`` MoAs, whose compounds share a batch (as many of BBBC021's do).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from cell_dino.phantom.phenotypes import PARAMETER_SCALE, Phenotype, dose_response, treated_phenotype
from cell_dino.phantom.presets import PhantomPreset

CONTROL = "DMSO"
POSITIVE_CONTROL = "taxol"
POSITIVE_CONTROL_MOA = "Microtubule stabilizers"
ROWS = "ABCDEFGH"


@dataclass(frozen=True)
class Compound:
    name: str
    moa: str
    batches: tuple[int, ...]
    ec50: float
    shift: np.ndarray


def _abbreviation(moa: str) -> str:
    return "".join(word[0] for word in moa.replace("-", " ").split()).upper()


def design_compounds(preset: PhantomPreset, rng: np.random.Generator) -> list[Compound]:
    """Compounds of each MoA, each confined to one batch, plus the positive control on all."""
    all_batches = tuple(range(1, preset.batches + 1))
    compounds = [Compound(POSITIVE_CONTROL, POSITIVE_CONTROL_MOA, all_batches, 0.1, np.zeros(PARAMETER_SCALE.size))]
    for m, moa in enumerate(preset.moas):
        for k in range(preset.compounds_per_moa):
            compounds.append(
                Compound(
                    name=f"PH-{_abbreviation(moa)}{k + 1}",
                    moa=moa,
                    batches=((m + (0 if m < preset.moas_in_one_batch else k)) % preset.batches + 1,),
                    ec50=float(np.exp(rng.uniform(np.log(0.2), np.log(0.7)))),
                    shift=rng.normal(0, preset.compound_spread, PARAMETER_SCALE.size) * PARAMETER_SCALE,
                )
            )
    return compounds


def inner_wells() -> list[str]:
    """Wells B02..G11 of a 96-well plate (the edge is left empty, as screens often do)."""
    return [f"{row}{col:02d}" for row in ROWS[1:7] for col in range(2, 12)]


def design_screen(preset: PhantomPreset, compounds: list[Compound], rng: np.random.Generator) -> pd.DataFrame:
    """One row per field of view with its batch, plate, well, site, treatment and phenotype."""
    rows = []
    wells = inner_wells()
    for batch in range(1, preset.batches + 1):
        treatments = [(c, conc) for c in compounds if batch in c.batches for conc in preset.concentrations]
        treatments = treatments * preset.wells_per_treatment + [(None, 0.0)] * preset.control_wells
        if len(treatments) > len(wells):
            raise ValueError(f"preset needs {len(treatments)} wells per plate, a plate has {len(wells)}")
        for replicate in range(1, preset.plates_per_batch + 1):
            plate = f"Week{batch}_{22100 + 10 * batch + replicate}"
            for slot, (compound, conc) in zip(rng.permutation(len(wells)), treatments):
                if compound is None:
                    name, moa, effect, phenotype = CONTROL, CONTROL, 0.0, Phenotype()
                else:
                    name, moa = compound.name, compound.moa
                    effect = dose_response(conc, compound.ec50)
                    phenotype = treated_phenotype(moa, compound.shift, effect, preset.moa_strength)
                for site in range(1, preset.sites_per_well + 1):
                    rows.append(
                        {
                            "batch": batch, "plate": plate, "replicate": replicate, "well": wells[slot],
                            "site": site, "compound": name, "concentration": conc, "moa": moa,
                            "effect": effect, **{f.name: getattr(phenotype, f.name) for f in fields(phenotype)},
                        }
                    )
    return pd.DataFrame(rows).sort_values(["batch", "plate", "well", "site"], ignore_index=True)
