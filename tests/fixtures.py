"""Miniature profile tables built from the real BBBC021 metadata (real plates, wells, batches,
compounds, concentrations and MoAs), with planted synthetic features."""

from __future__ import annotations

import numpy as np
import pandas as pd

WELL_COLUMNS = [
    "Metadata_Plate",
    "Metadata_Well",
    "Metadata_Batch",
    "Metadata_Compound",
    "Metadata_Concentration",
    "Metadata_Treatment",
    "Metadata_MoA",
    "Metadata_Control",
]


def bbbc021_wells(
    manifest: pd.DataFrame, moas: list[str], compounds_per_moa: int = 2, controls_per_plate: int = 2, doses_per_compound: int = 1
) -> pd.DataFrame:
    """Well metadata of the first ``doses_per_compound`` treatments (compound at a concentration)
    of each of the first ``compounds_per_moa`` compounds of each MoA (every replicate well), and
    ``controls_per_plate`` DMSO wells of each plate they are on."""
    wells = manifest[WELL_COLUMNS].drop_duplicates(["Metadata_Plate", "Metadata_Well"])
    chosen = []
    for moa in moas:
        of_moa = wells[wells["Metadata_MoA"] == moa].sort_values("Metadata_Treatment")
        compounds = sorted(of_moa["Metadata_Compound"].unique())[:compounds_per_moa]
        first = of_moa[of_moa["Metadata_Compound"].isin(compounds)].groupby("Metadata_Compound")["Metadata_Treatment"]
        chosen.append(wells[wells["Metadata_Treatment"].isin(first.unique().explode().groupby(level=0).head(doses_per_compound))])
    treated = pd.concat(chosen)
    controls = wells[wells["Metadata_Control"] & wells["Metadata_Plate"].isin(treated["Metadata_Plate"])]
    controls = controls.groupby("Metadata_Plate").head(controls_per_plate)
    return pd.concat([treated, controls]).sort_values(["Metadata_Plate", "Metadata_Well"]).reset_index(drop=True)


def planted(rows: pd.DataFrame, n_features: int = 16, effect: float = 3.0, seed: int = 0) -> pd.DataFrame:
    """``rows`` with features ``f_0000...``: a centre per MoA (DMSO at the origin) plus a smaller
    offset per compound plus unit noise per row."""
    rng = np.random.default_rng(seed)
    moa_centre = {m: rng.normal(size=n_features) * effect for m in sorted(rows["Metadata_MoA"].dropna().unique())}
    compound_offset = {c: rng.normal(size=n_features) * effect / 3 for c in sorted(rows["Metadata_Compound"].unique())}
    origin = np.zeros(n_features)
    x = np.stack(
        [
            origin if control else moa_centre[m] + compound_offset[c]
            for m, c, control in rows[["Metadata_MoA", "Metadata_Compound", "Metadata_Control"]].itertuples(index=False)
        ]
    )
    x = x + rng.normal(size=x.shape)
    return pd.concat([rows.reset_index(drop=True), pd.DataFrame(x, columns=[f"f_{j:04d}" for j in range(n_features)])], axis=1)


def items_of(wells: pd.DataFrame, sites: int = 3, cells: int = 4) -> pd.DataFrame:
    """Item rows (cells of fields) of each well: ``Metadata_FOV``, ``Metadata_Site`` and
    ``Metadata_Index`` added, as the embed pipeline writes them."""
    items = wells.loc[wells.index.repeat(sites * cells)].reset_index(drop=True)
    site = np.tile(np.repeat(np.arange(1, sites + 1), cells), len(wells))
    items.insert(0, "Metadata_Site", site)
    items.insert(0, "Metadata_FOV", items["Metadata_Plate"] + "/" + items["Metadata_Well"] + "/s" + items["Metadata_Site"].astype(str))
    return items.assign(Metadata_Index=np.arange(len(items)))
