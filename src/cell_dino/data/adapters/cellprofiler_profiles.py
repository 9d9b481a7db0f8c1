"""Published per-well CellProfiler profiles (e.g. Ljosa et al. 2013 for BBBC021) joined to the
well metadata of an FOV manifest, in the profile-table contract (``Metadata_*`` + features)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cell_dino.data import manifest as mf
from cell_dino.data.errors import ManifestError
from cell_dino.data.tables import read_csv_any_newline, require_columns

PLATE_COLUMN, WELL_COLUMN = "Image_Metadata_Plate", "Image_Metadata_Well"
PER_FIELD = [mf.FOV_KEY, mf.SITE]


def read_well_profiles(path: str | Path, manifest: pd.DataFrame) -> pd.DataFrame:
    """One row per profiled well: its manifest metadata (constant per well) and its features.

    Raises naming the file when the key columns are missing or a profiled well is not in the
    manifest."""
    path = Path(path)
    profiles = read_csv_any_newline(path).copy()  # one block: the merge below stays fast
    require_columns(profiles, [PLATE_COLUMN, WELL_COLUMN], path)
    profiles = profiles.rename(columns={PLATE_COLUMN: mf.PLATE, WELL_COLUMN: mf.WELL})
    meta = manifest[[c for c in mf.metadata_columns(manifest) if c not in PER_FIELD]]
    wells = meta.drop_duplicates([mf.PLATE, mf.WELL])
    joined = profiles.merge(wells, on=[mf.PLATE, mf.WELL], how="left", indicator=True)
    missing = joined["_merge"] != "both"
    if missing.any():
        row = int(missing.to_numpy().nonzero()[0][0])
        raise ManifestError(f"{path}: row {row}: well {joined[mf.PLATE].iloc[row]}/{joined[mf.WELL].iloc[row]} is not in the manifest")
    features = [c for c in profiles.columns if c not in (mf.PLATE, mf.WELL)]
    return joined[[*wells.columns, *features]].copy()
