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
        sites_per_well=3,
        field_shape=(256, 320),
        cells_per_field=48,
    ),
}
