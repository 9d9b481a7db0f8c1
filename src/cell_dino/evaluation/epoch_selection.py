"""Choosing a checkpoint without the test labels: per epoch, replicate-retrieval mAP against the
controls (it uses treatment identity and controls, never the MoA) decides; NSC and NSCB per epoch
are reported beside it, and the best epoch on NSC only labelled as optimistic."""

from __future__ import annotations

import json

import pandas as pd

from cell_dino.evaluation.scorecard import ScoringSpec, finite_or_none, scored_row
from cell_dino.profiling.finite import NonFinitePolicy, finite_profiles
from cell_dino.profiling.levels import treatment_profiles
from cell_dino.profiling.normalise import zscore

CRITERION = "map_activity (replicate retrieval against controls; no MoA labels)"


def select_epoch(epoch_profiles: pd.DataFrame, spec: ScoringSpec, nonfinite: NonFinitePolicy) -> tuple[pd.DataFrame, dict]:
    """``epoch_profiles``: well profiles with ``Metadata_Epoch``, scored after a global z-score.
    Returns one row per epoch (``epoch``, ``map_activity``, ``nsc``, ``nscb``, ``undefined``,
    ``nonfinite_rows_dropped``, ``nonfinite_features_dropped``) and
    the choice: ``selected_epoch`` with its NSC / NSCB, the optimistic best-on-test epoch, or the
    reason none can be chosen."""
    rows = []
    for epoch, wells in epoch_profiles.groupby("Metadata_Epoch"):
        wells, dropped = finite_profiles(
            wells.drop(columns=["Metadata_Epoch", "Metadata_Count"], errors="ignore").reset_index(drop=True),
            nonfinite,
            f"epoch {epoch} well profiles",
        )
        wells = zscore(wells)
        row, _ = scored_row(wells, treatment_profiles(wells), spec, nonfinite, f"epoch {epoch} z-scored")
        rows.append(
            {
                "epoch": int(epoch),
                **{k: row[k] for k in ("map_activity", "nsc", "nscb", "undefined")},
                "nonfinite_rows_dropped": dropped.get("n_rows_dropped", 0),
                "nonfinite_features_dropped": dropped.get("n_features_dropped", 0),
            }
        )
    table = pd.DataFrame(rows)
    selection: dict = {"criterion": CRITERION}
    if table["map_activity"].notna().any():
        chosen = table.loc[table["map_activity"].idxmax()]
        selection |= {
            "selected_epoch": int(chosen["epoch"]),
            "selected_nsc": finite_or_none(float(chosen["nsc"])),
            "selected_nscb": finite_or_none(float(chosen["nscb"])),
        }
    else:
        selection["undefined"] = f"map_activity is undefined at every epoch: {json.loads(table['undefined'].iloc[-1]).get('map_activity')}"
    if table["nsc"].notna().any():
        best = table.loc[table["nsc"].idxmax()]
        selection |= {"best_on_test_epoch (optimistic)": int(best["epoch"]), "best_on_test_nsc (optimistic)": float(best["nsc"])}
    return table, selection
