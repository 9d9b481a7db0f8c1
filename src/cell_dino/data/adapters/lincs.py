"""LINCS Cell Painting (cpg0004; Way et al. 2022): LoadData CSVs plus the screen's platemaps.

The images come from a LoadData CSV (:func:`~cell_dino.data.adapters.loaddata.read_loaddata`:
``Orig<Ch>`` channels DNA, ER, RNA, AGP, Mito; ``Illum<Ch>`` functions; ``URL_`` or ``s3://``
locations). Their treatments come from the lincs-cell-painting metadata as its profiling pipeline
joins them: ``barcode_platemap.csv`` (``Assay_Plate_Barcode`` -> ``Plate_Map_Name``,
``Batch_Number``), ``platemap/<Plate_Map_Name>.txt`` (``well_position`` -> ``broad_sample``,
``mmoles_per_liter``: micromolar despite the name; DMSO wells have an empty ``broad_sample``) and
the MoA table (``repurposing_info_external_moa_map_resolved.tsv``: ``broad_sample`` -> ``pert_iname``,
``moa``). Doses are recoded as the LINCS profiles do (the nearest of 0.04, 0.12, 0.37, 1.11, 3.33,
10 and 20 uM -> 1-7, DMSO 0); ``top_dose_only`` keeps each sample's (``broad_sample``) highest dose
and the DMSO wells, the set DINO4Cells trains on.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from cell_dino.data import manifest as mf
from cell_dino.data.adapters.loaddata import read_loaddata
from cell_dino.data.errors import ManifestError
from cell_dino.data.tables import read_csv_any_newline, require_columns

log = logging.getLogger(__name__)

CONTROL_COMPOUND = "DMSO"
STANDARD_DOSES = (0.04, 0.12, 0.37, 1.11, 3.33, 10.0, 20.0)  # uM, recoded 1-7 (DMSO: 0)
DOSE_RECODE = "Metadata_DoseRecode"
BROAD_SAMPLE = "Metadata_broad_sample"


def recode_dose(micromolar: pd.Series) -> pd.Series:
    """The nearest standard dose's rank, 1-7; 0 where there is no dose (DMSO)."""
    values = micromolar.to_numpy(dtype=float)
    nearest = np.abs(values[:, None] - np.asarray(STANDARD_DOSES)[None, :]).argmin(axis=1) + 1
    return pd.Series(np.where(np.isnan(values) | (values == 0), 0, nearest), index=micromolar.index, dtype=int)


def plate_wells(manifest: pd.DataFrame, platemaps: Path) -> pd.DataFrame:
    """Each manifest row's platemap row: ``Plate_Map_Name``, ``Batch_Number``, ``broad_sample``,
    ``mmoles_per_liter`` (index as ``manifest``); a plate or a well the platemaps lack is named."""
    barcodes_path = platemaps / "barcode_platemap.csv"
    barcodes = read_csv_any_newline(barcodes_path, ["Assay_Plate_Barcode", "Plate_Map_Name"])
    require_columns(barcodes, ["Assay_Plate_Barcode", "Plate_Map_Name", "Batch_Number"], barcodes_path)
    plates = barcodes.set_index("Assay_Plate_Barcode")
    unknown = sorted(set(manifest[mf.PLATE].astype(str)) - set(plates.index))
    if unknown:
        raise ManifestError(f"{barcodes_path}: plate(s) {unknown[:5]} of the LoadData table are not in Assay_Plate_Barcode")
    wells = []
    for name in plates.loc[manifest[mf.PLATE].astype(str).unique(), "Plate_Map_Name"].unique():
        path = platemaps / "platemap" / f"{name}.txt"
        table = read_csv_any_newline(path, ["plate_map_name", "well_position", "broad_sample"])
        require_columns(table, ["well_position", "broad_sample", "mmoles_per_liter"], path)
        wells.append(table.assign(Plate_Map_Name=name, mmoles_per_liter=mf.numbers(table["mmoles_per_liter"], path, "mmoles_per_liter")))
    layout = pd.concat(wells, ignore_index=True).set_index(["Plate_Map_Name", "well_position"])
    keys = pd.MultiIndex.from_arrays([plates.loc[manifest[mf.PLATE].astype(str), "Plate_Map_Name"], manifest[mf.WELL].astype(str)])
    missing = ~keys.isin(layout.index)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise ManifestError(f"{platemaps}: well {keys[row][1]} of plate map {keys[row][0]} (LoadData row {row}) is not in the platemap")
    joined = layout.loc[keys, ["broad_sample", "mmoles_per_liter"]].reset_index()
    joined["Batch_Number"] = plates.loc[manifest[mf.PLATE].astype(str), "Batch_Number"].to_numpy()
    return joined.set_axis(manifest.index)


def read_lincs(
    root: Path,
    table: str = "load_data_with_illum.csv",
    platemaps: str = "metadata/platemaps",
    moa_table: str = "metadata/moa/repurposing_info_external_moa_map_resolved.tsv",
    top_dose_only: bool = False,
) -> pd.DataFrame:
    """Read a LINCS plate set into an FOV manifest: the LoadData columns, then ``Metadata_broad_sample``
    (``DMSO`` for the controls, as the LINCS profiles write it), ``Metadata_Compound`` (``pert_iname``;
    the broad id where the MoA table has no name, e.g. its 51 samples with an empty one), ``Metadata_Concentration`` (uM), ``Metadata_DoseRecode`` (0-7),
    ``Metadata_Treatment`` (compound at its concentration), ``Metadata_MoA`` (``|``-joined as in the
    table; ``DMSO`` for controls, empty for compounds without an annotation), ``Metadata_Control``,
    ``Metadata_Batch`` (the plate's ``Batch_Number``) and ``Metadata_PlateMap``. Paths are relative to
    ``root``. Raises :class:`ManifestError` naming the table and the plate, well or column at fault."""
    manifest = read_loaddata(root, table)
    require_columns(manifest, [mf.PLATE, mf.WELL], root / table)
    wells = plate_wells(manifest, root / platemaps)
    moa_path = root / moa_table
    moa = read_csv_any_newline(moa_path, ["broad_sample", "pert_iname", "moa"])
    require_columns(moa, ["broad_sample", "pert_iname", "moa"], moa_path)
    annotation = moa.drop_duplicates("broad_sample").set_index("broad_sample")
    control = wells["broad_sample"].isna().to_numpy()
    sample = wells["broad_sample"].fillna(CONTROL_COMPOUND)
    known = sample.isin(annotation.index).to_numpy()
    names = annotation["pert_iname"].reindex(sample.to_numpy()).to_numpy()  # empty for unknown samples and empty names
    compound = pd.Series(np.where(pd.isna(names), sample.str[:13].to_numpy(), names), index=manifest.index)  # else the broad id
    compound[control] = CONTROL_COMPOUND
    concentration = wells["mmoles_per_liter"].where(~control, 0.0)  # a compound's missing dose stays missing
    labels = pd.Series(pd.NA, index=manifest.index, dtype="string")
    labels[known] = annotation.loc[sample[known], "moa"].to_numpy()
    labels[control] = CONTROL_COMPOUND
    manifest = manifest.assign(
        **{
            BROAD_SAMPLE: sample.to_numpy(),
            mf.COMPOUND: compound.to_numpy(),
            mf.CONCENTRATION: concentration.to_numpy(),
            DOSE_RECODE: recode_dose(concentration).to_numpy(),
            mf.TREATMENT: mf.treatment_labels(compound, concentration).to_numpy(),
            mf.MOA: labels.to_numpy(),
            mf.CONTROL: control,
            mf.BATCH: wells["Batch_Number"].astype(str).to_numpy(),
            "Metadata_PlateMap": wells["Plate_Map_Name"].to_numpy(),
        }
    )
    if top_dose_only:  # per broad_sample: a compound's control salt at 20 uM must not hide its library sample's 10 uM
        top = manifest.groupby(BROAD_SAMPLE)[mf.CONCENTRATION].transform("max")
        unknown = manifest[mf.CONCENTRATION].isna()
        if unknown.any():  # a dose the platemap leaves empty cannot be ranked: kept, and said
            log.warning("top_dose_only: %d well(s) without a dose kept (%s)", int(unknown.sum()), sorted(set(manifest.loc[unknown, mf.WELL]))[:5])
        manifest = manifest.loc[manifest[mf.CONTROL] | unknown | np.isclose(manifest[mf.CONCENTRATION], top)].reset_index(drop=True)
    return manifest
