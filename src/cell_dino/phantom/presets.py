"""Sizes of the synthetic screen: ``test`` generates in seconds, ``demo`` in about a minute."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PhantomPreset:
    """How large a phantom screen is. Lengths are in pixels of the written images."""

    moas: tuple[str, ...]
    compounds_per_moa: int
    concentrations: tuple[float, ...]
    batches: int
    plates_per_batch: int
    wells_per_treatment: int
    control_wells: int
    sites_per_well: int
    field_shape: tuple[int, int]
    cells_per_field: float
    # Effect sizes (benchmarks/phantom_calibration.py scores them against the real BBBC021):
    moa_strength: float = 1.0  # multiplies every MoA's full-effect shift
    compound_spread: float = 0.7  # sd of a compound's own shift, in units of each parameter's PARAMETER_SCALE
    batch_gain: tuple[float, float] = (0.75, 1.3)  # range of a batch's camera gain (an intensity batch effect)
    batch_morphology: float = 0.0  # sd of a batch's shift of every well's morphology, in PARAMETER_SCALE units
    cell_variation: float = 1.0  # multiplies the cell-to-cell spread of size, elongation and nucleus shape
    moas_in_one_batch: int = 0  # the first n MoAs have all their compounds in one batch (else one batch per compound)


PRESETS: dict[str, PhantomPreset] = {
    "test": PhantomPreset(
        moas=("Microtubule stabilizers", "Actin disruptors", "DNA damage", "Eg5 inhibitors"),
        compounds_per_moa=2,
        concentrations=(1.0,),
        batches=2,
        plates_per_batch=1,
        wells_per_treatment=2,
        control_wells=2,
        sites_per_well=2,
        field_shape=(160, 192),
        cells_per_field=22,
    ),
    "demo": PhantomPreset(
        moas=(
            "Microtubule stabilizers",
            "Microtubule destabilizers",
            "Actin disruptors",
            "DNA damage",
            "Eg5 inhibitors",
            "Aurora kinase inhibitors",
            "Protein synthesis",
        ),
        compounds_per_moa=2,
        concentrations=(0.3, 1.0, 3.0),
        batches=3,
        plates_per_batch=2,
        wells_per_treatment=1,
        control_wells=4,
        sites_per_well=2,  # 3 until make demo had to fit 15 minutes on 2 cores (with 48 cells per field)
        field_shape=(256, 320),
        cells_per_field=40,  # 48 until make demo had to fit 15 minutes on 2 cores
        # calibrated (benchmarks/phantom_calibration.py, seed 0) at 3 sites of 48 cells: CellProfiler
        # features with the Ljosa recipe gave NSC 0.844 / NSCB 0.667 (the real BBBC021: 0.883 / 0.717);
        # per-channel mean intensity alone 0.444 / 0.067. Before: 0.733 / 0.810 (every MoA's compounds
        # in different batches, so batch effects only hurt NSC; no batch effect on morphology).
        # At 2 sites of 40 cells: 0.800 / 0.667 (intensity alone 0.467 / 0.167), 0.003 outside; re-tuned
        # there: moa_strength 1.1 still 0.800 / 0.667; compound_spread 0.5 gave 0.844 / 0.667 (intensity
        # 0.400 / 0.200); moa_strength 1.3 gave 0.844 / 0.733 (intensity 0.467 / 0.133), the closest.
        moa_strength=1.3,
        moas_in_one_batch=3,
        batch_morphology=0.5,
    ),
}
