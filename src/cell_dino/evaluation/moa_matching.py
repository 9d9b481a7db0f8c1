"""NSC and NSCB: 1-nearest-neighbour MoA matching of treatment profiles (Ljosa et al. 2013;
the WS-DINO protocol of Cross-Zamirski et al. 2022).

Each treatment (compound at a concentration) is matched to its most cosine-similar treatment of
another compound (NSC: not-same-compound), and for NSCB also of another batch. A treatment's
batches are the set of batches of its wells; two treatments share a batch when those sets
intersect, so a positive control spread over every batch is never an NSCB neighbour. NSCB scores
only the MoAs whose treatments span more than one batch (on BBBC021 it drops Cholesterol-lowering
and Kinase inhibitors: 92 of 103 treatments). Controls and unlabelled treatments take no part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cell_dino.profiling.table import feature_matrix, require_columns

MOA, COMPOUND, BATCH, CONTROL = "Metadata_MoA", "Metadata_Compound", "Metadata_Batch", "Metadata_Control"


@dataclass(frozen=True)
class MatchingResult:
    """Per-treatment matches (``table``) and the two accuracies with their denominators."""

    table: pd.DataFrame
    nsc: float
    nscb: float
    n_nsc: int
    n_nscb: int

    def summary(self) -> dict[str, float | int]:
        return {"nsc": self.nsc, "nscb": self.nscb, "n_nsc": self.n_nsc, "n_nscb": self.n_nscb}


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def nearest_allowed(normed: np.ndarray, allowed: Callable[[slice], np.ndarray], block: int = 512) -> np.ndarray:
    """Per row, the index of the most cosine-similar row that ``allowed(rows)`` permits (-1 where
    none is), computed in blocks of query rows so memory stays ``block x N``."""
    out = np.empty(len(normed), dtype=np.int64)
    for start in range(0, len(normed), block):
        rows = slice(start, min(start + block, len(normed)))
        mask = allowed(rows)
        similarity = np.where(mask, normed[rows] @ normed.T, -np.inf)
        out[rows] = np.where(mask.any(axis=1), similarity.argmax(axis=1), -1)
    return out


def moa_matching(treatments: pd.DataFrame, batches: pd.Series | None = None) -> MatchingResult:
    """NSC and NSCB of treatment-level profiles.

    ``batches`` maps each row of ``treatments`` (same index) to the set of its batches; without it
    ``Metadata_Batch`` of each row is used. Without either, only NSC is computed (NSCB is NaN).
    """
    require_columns(treatments, [MOA, COMPOUND], "moa_matching")
    labelled = treatments[MOA].notna().to_numpy()
    if CONTROL in treatments.columns:
        labelled = labelled & ~treatments[CONTROL].fillna(False).to_numpy(dtype=bool)
    rows = treatments.loc[labelled]
    if batches is None and BATCH in rows.columns:
        batches = rows[BATCH].map(lambda b: frozenset([b]))
    moa = rows[MOA].astype(str).to_numpy()
    compound = pd.factorize(rows[COMPOUND].astype(str))[0]
    normed = unit_rows(feature_matrix(rows)).astype(np.float32)
    index = rows.index.to_numpy()
    nsc_match = nearest_allowed(normed, lambda r: compound[r, None] != compound[None, :])
    table = pd.DataFrame({"treatment_index": index, MOA: moa, COMPOUND: rows[COMPOUND].astype(str).to_numpy(),
                          "nsc_match": index[nsc_match], "nsc_correct": moa[nsc_match] == moa})  # fmt: skip
    nscb, n_nscb = float("nan"), 0
    if batches is not None:
        sets = [frozenset(batches.loc[i]) for i in rows.index]
        names = sorted(frozenset().union(*sets), key=str)
        member = np.zeros((len(sets), len(names)), dtype=np.float32)
        for i, batch_set in enumerate(sets):
            member[i, [names.index(b) for b in batch_set]] = 1.0
        moa_batches = pd.DataFrame(member, index=moa).groupby(level=0).max().sum(axis=1)
        scored = moa_batches.loc[moa].to_numpy() > 1
        nscb_match = nearest_allowed(normed, lambda r: (compound[r, None] != compound[None, :]) & (member[r] @ member.T == 0))
        correct = (nscb_match >= 0) & (moa[nscb_match] == moa)
        table["nscb_scored"] = scored
        table["nscb_match"] = np.where(nscb_match >= 0, index[nscb_match], -1)
        table["nscb_correct"] = correct & scored
        n_nscb = int(scored.sum())
        nscb = float(correct[scored].mean()) if n_nscb else float("nan")
    return MatchingResult(table, float(table["nsc_correct"].mean()), nscb, len(table), n_nscb)


def treatment_batches(fine: pd.DataFrame, treatments: pd.DataFrame, by: list[str], batch: str = BATCH) -> pd.Series:
    """The set of batches of each row of ``treatments`` (keyed by ``by``), from the finer-level
    rows of ``fine`` (e.g. wells), aligned with the index of ``treatments``."""
    require_columns(fine, [*by, batch], "treatment_batches (fine level)")
    require_columns(treatments, by, "treatment_batches (treatment level)")
    sets = fine.groupby(by, sort=False, observed=True, dropna=False)[batch].agg(frozenset).rename("batches")
    aligned = treatments[by].merge(sets, left_on=by, right_index=True, how="left")["batches"]
    if aligned.isna().any():
        raise ValueError(f"treatment_batches: {int(aligned.isna().sum())} treatments have no rows at the finer level")
    return aligned.set_axis(treatments.index)
