"""Choosing a checkpoint without the test labels: per epoch, replicate-retrieval mAP against the
controls (it uses treatment identity and controls, never the MoA) decides; NSC and NSCB per epoch
are reported beside it, with the best epoch on the test metric (labelled optimistic: the paper's
choice) and the mean over the last checkpoints (a window of epochs, as WS-DINO's Table 2 reports)."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd

from cell_dino.core.undefined import Undefined
from cell_dino.evaluate.scorecard import ScoringSpec, finite_or_none, scored_row
from cell_dino.integrate.finite import NonFinitePolicy, finite_profiles

CRITERION = "map_activity (replicate retrieval against controls; no MoA labels)"
Profiles = Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]]  # FOV profiles -> (wells, treatments)


def _epoch_row(epoch: int, fovs: pd.DataFrame, spec: ScoringSpec, nonfinite: NonFinitePolicy, profiles_of: Profiles) -> dict:
    fovs, dropped = finite_profiles(
        fovs.drop(columns=["Metadata_Epoch", "Metadata_Count"], errors="ignore"), nonfinite, f"epoch {epoch} FOV profiles"
    )
    counts = {
        "nonfinite_rows_dropped": dropped.get("n_rows_dropped", 0),
        "nonfinite_features_dropped": dropped.get("n_features_dropped", 0),
    }
    try:
        wells, treatments = profiles_of(fovs.reset_index(drop=True))
    except Undefined as reason:
        undefined = json.dumps({"normalisation": str(reason)})
        return {"epoch": epoch, "map_activity": np.nan, "nsc": np.nan, "nscb": np.nan, "undefined": undefined, **counts}
    row, _ = scored_row(wells, treatments, spec, nonfinite, f"epoch {epoch}")
    return {"epoch": epoch, **{k: row[k] for k in ("map_activity", "nsc", "nscb", "undefined")}, **counts}


def select_epoch(
    epoch_profiles: pd.DataFrame, spec: ScoringSpec, nonfinite: NonFinitePolicy, profiles_of: Profiles, window: int
) -> tuple[pd.DataFrame, dict]:
    """``epoch_profiles``: FOV profiles with ``Metadata_Epoch``; ``profiles_of`` makes one epoch's
    normalised well and treatment profiles (raising :class:`~cell_dino.core.undefined.Undefined` when
    it cannot). Returns one row per epoch (``epoch``, ``map_activity``, ``nsc``, ``nscb``,
    ``undefined``, ``nonfinite_rows_dropped``, ``nonfinite_features_dropped``) and the choice:
    ``selected_epoch`` with its NSC / NSCB (or the reason none can be chosen), the best epoch on
    NSC and on NSCB (optimistic), and the mean NSC / NSCB over the last ``window`` checkpoints."""
    table = pd.DataFrame(
        [_epoch_row(int(epoch), fovs, spec, nonfinite, profiles_of) for epoch, fovs in epoch_profiles.groupby("Metadata_Epoch")]
    )
    selection: dict = {"criterion": CRITERION}
    if table["map_activity"].notna().any():
        chosen = table.loc[table["map_activity"].idxmax()]
        selection |= {
            "selected_epoch": int(chosen["epoch"]),
            "selected_nsc": finite_or_none(float(chosen["nsc"])),
            "selected_nscb": finite_or_none(float(chosen["nscb"])),
        }
        reasons = json.loads(chosen["undefined"])
        selection |= {f"selected_{m}_undefined": reasons[m] for m in ("nsc", "nscb") if selection[f"selected_{m}"] is None and m in reasons}
    else:
        selection["undefined"] = f"map_activity is undefined at every epoch: {json.loads(table['undefined'].iloc[-1])}"
    for metric in ("nsc", "nscb"):
        if table[metric].notna().any():
            best = table.loc[table[metric].idxmax()]
            selection |= {
                f"best_on_test_epoch_{metric} (optimistic)": int(best["epoch"]),
                f"best_on_test_{metric} (optimistic)": float(best[metric]),
            }
    selection["window"] = window_means(table, window)
    return table, selection


def window_means(table: pd.DataFrame, window: int) -> dict:
    """Mean and SD of NSC and NSCB over the last ``window`` checkpoints, with how many epochs each
    average holds (undefined epochs are left out) and a note when the run has fewer checkpoints."""
    last = table.tail(window)
    means = {"epochs": last["epoch"].astype(int).tolist()}
    for m in ("nsc", "nscb"):
        means |= {
            f"mean_{m}": finite_or_none(float(last[m].mean())),
            f"sd_{m}": finite_or_none(float(last[m].std(ddof=0))),
            f"n_{m}": int(last[m].notna().sum()),
        }
    if len(table) < window:
        means["note"] = f"the run has {len(table)} checkpoint(s), fewer than epoch_window {window}: all are averaged"
    return means
