"""Mean average precision with permutation p-values (copairs; Kalinin et al. 2025).

- **Phenotypic activity**: can a treatment's replicates be told apart from the controls? Each
  non-control profile retrieves its replicates (same treatment) against the control profiles.
- **Phenotypic consistency**: do treatments sharing a MoA retrieve each other? Positives share the
  MoA but not the compound; negatives have another MoA. MoA values holding ``|`` are multi-label.

Up to ``direct_max`` profiles the average precisions come from copairs (similarities in batches of
``batch_size`` pairs); above it, copairs' list of every pair no longer fits in memory and the
blocked path of :mod:`cell_dino.evaluation.average_precision` computes them with memory bounded by
a block of queries. mAP and p-values come from copairs either way; its null-distribution cache goes
to ``cache_dir`` (a temporary folder when not given), never to the home folder.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from cell_dino.evaluation.average_precision import blocked_average_precision
from cell_dino.profiling.table import feature_matrix, metadata_columns, require_columns

log = logging.getLogger(__name__)

CONTROL, MOA, COMPOUND = "Metadata_Control", "Metadata_MoA", "Metadata_Compound"
REFERENCE = "Metadata_reference_index"
DIRECT_MAX = 20000
MULTILABEL_SEPARATOR = "|"


def _activity_masks(codes: np.ndarray, controls: np.ndarray):
    """Positives: the other replicates of a non-control query; negatives: every control."""

    def replicates(rows: slice) -> np.ndarray:
        mask = (codes[rows, None] == codes[None, :]) & ~controls[rows, None] & ~controls[None, :]
        mask[np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop)] = False
        return mask

    def against_controls(rows: slice) -> np.ndarray:
        return ~controls[rows, None] & controls[None, :]

    return replicates, against_controls


def _map(ap: pd.DataFrame, sameby: list[str], null_size: int, threshold: float, seed: int, cache_dir: Path | None) -> pd.DataFrame:
    from copairs.map import mean_average_precision

    with tempfile.TemporaryDirectory(prefix="copairs-") as scratch:
        return mean_average_precision(ap, sameby, null_size=null_size, threshold=threshold, seed=seed,
                                      progress_bar=False, max_workers=1, cache_dir=cache_dir or Path(scratch))  # fmt: skip


def phenotypic_activity(
    profiles: pd.DataFrame, treatment: str = "Metadata_Treatment", null_size: int = 10000,
    threshold: float = 0.05, seed: int = 0, batch_size: int = 20000, cache_dir: Path | None = None,
    direct_max: int = DIRECT_MAX,
) -> pd.DataFrame:  # fmt: skip
    """Per-treatment mAP of replicate retrieval against controls, p-values and FDR-corrected q-values."""
    from copairs.map import average_precision

    require_columns(profiles, [treatment, CONTROL], "phenotypic_activity")
    meta = profiles[metadata_columns(profiles)].reset_index(drop=True)
    controls = meta[CONTROL].fillna(False).to_numpy(dtype=bool)
    if not controls.any():
        raise ValueError("phenotypic_activity needs control rows (Metadata_Control true)")
    if len(meta) > direct_max:
        replicates, against_controls = _activity_masks(pd.factorize(meta[treatment])[0], controls)
        ap = pd.concat([meta, blocked_average_precision(feature_matrix(profiles), replicates, against_controls)], axis=1)
    else:
        meta[REFERENCE] = np.where(controls, np.arange(len(meta)), -1)
        ap = average_precision(meta, feature_matrix(profiles), pos_sameby=[treatment, REFERENCE], pos_diffby=[],
                               neg_sameby=[], neg_diffby=[treatment, REFERENCE], batch_size=batch_size, progress_bar=False)  # fmt: skip
    ap = ap.loc[~ap[CONTROL].fillna(False).astype(bool)]
    return _map(ap, [treatment], null_size, threshold, seed, cache_dir)


def phenotypic_consistency(
    profiles: pd.DataFrame, moa: str = MOA, compound: str = COMPOUND, null_size: int = 10000,
    threshold: float = 0.05, seed: int = 0, batch_size: int = 20000, cache_dir: Path | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Per-MoA mAP of MoA retrieval across compounds (controls and unlabelled rows left out)."""
    from copairs.map import average_precision, multilabel

    require_columns(profiles, [moa, compound], "phenotypic_consistency")
    keep = profiles[moa].notna().to_numpy()
    if CONTROL in profiles.columns:
        keep = keep & ~profiles[CONTROL].fillna(False).to_numpy(dtype=bool)
    rows = profiles.loc[keep].reset_index(drop=True)
    meta = rows[metadata_columns(rows)].copy()
    labels = meta[moa].astype(str)
    if labels.str.contains(MULTILABEL_SEPARATOR, regex=False).any():
        meta[moa] = labels.str.split(MULTILABEL_SEPARATOR, regex=False)
        ap = multilabel.average_precision(meta, feature_matrix(rows), pos_sameby=[moa], pos_diffby=[compound], neg_sameby=[],
                                          neg_diffby=[moa], multilabel_col=moa, batch_size=batch_size, progress_bar=False)  # fmt: skip
    else:
        ap = average_precision(meta, feature_matrix(rows), pos_sameby=[moa], pos_diffby=[compound], neg_sameby=[],
                               neg_diffby=[moa], batch_size=batch_size, progress_bar=False)  # fmt: skip
    return _map(ap, [moa], null_size, threshold, seed, cache_dir)
