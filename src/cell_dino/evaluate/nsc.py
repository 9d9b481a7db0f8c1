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

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cell_dino.core.undefined import needs
from cell_dino.evaluate.neighbours import nearest, unit_rows, zero_norm
from cell_dino.integrate.table import controls, feature_matrix, group_values, require_columns

log = logging.getLogger(__name__)

MOA, COMPOUND, BATCH = "Metadata_MoA", "Metadata_Compound", "Metadata_Batch"


@dataclass(frozen=True)
class MatchingResult:
    """Per-treatment matches (``table``), the two accuracies with their denominators, and for an
    accuracy that the data cannot support (NaN) the reason in ``undefined``."""

    table: pd.DataFrame
    nsc: float
    nscb: float
    n_nsc: int
    n_nscb: int
    undefined: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, float | int]:
        return {"nsc": self.nsc, "nscb": self.nscb, "n_nsc": self.n_nsc, "n_nscb": self.n_nscb}


def _batch_membership(rows: pd.DataFrame, batches: pd.Series) -> np.ndarray:
    """Treatments x batches indicator of the batches each treatment's wells are in."""
    sets = [frozenset(batches.loc[i]) for i in rows.index]
    names = sorted(frozenset().union(*sets), key=str)
    member = np.zeros((len(sets), len(names)), dtype=bool)
    for i, batch_set in enumerate(sets):
        member[i, [names.index(b) for b in batch_set]] = True
    return member


def _disjoint_batches(member: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Whether two treatments share no batch, for pairs of positions: their batch sets as bits
    (64 batches per word), so a test costs one AND per word."""
    words = np.packbits(member, axis=1, bitorder="little")
    words = np.pad(words, ((0, 0), (0, -words.shape[1] % 8))).view(np.uint64)
    return lambda a, b: np.logical_and.reduce([(words[a, w] & words[b, w]) == 0 for w in range(words.shape[1])])


def _accuracy(agreement: np.ndarray, scored: np.ndarray, labels: np.ndarray, name: str, why: str, undefined: dict[str, str]) -> float:
    """Mean agreement of the scored treatments; NaN, with the reason, when none is scored or every
    treatment has one label (every neighbour would be right)."""
    if not scored.any():
        undefined[name] = why
        return float("nan")
    if len(set(labels)) < 2:
        undefined[name] = f"every labelled treatment has one label ({labels[0]}): every neighbour would match"
        return float("nan")
    return float(agreement[scored].mean())


def moa_matching(treatments: pd.DataFrame, batches: pd.Series | None = None, label: str = MOA, group: str = COMPOUND) -> MatchingResult:
    """NSC and NSCB of treatment-level profiles.

    ``label`` is the class to match (the MoA) and ``group`` what a neighbour must differ in (the
    compound). ``batches`` maps each row of ``treatments`` (same index) to the set of its batches; without it
    ``Metadata_Batch`` of each row is used. Without either, NSCB is undefined. A treatment is
    scored only where a right match exists: another compound has its MoA (a treatment whose MoA
    has one compound cannot be matched; on BBBC021 every MoA has several), and it has an allowed
    neighbour (NSC: another compound; NSCB: another compound in none of its batches, and its MoA
    spans more than one batch); an accuracy with no scored
    treatment is NaN, its reason in ``undefined``. Tied nearest neighbours count by the share of
    them with the treatment's MoA; zero-norm profiles (no direction) take no part, with a warning.
    """
    needs(treatments.columns, [label, group], "NSC")
    rows = treatments.loc[treatments[label].notna().to_numpy() & ~controls(treatments)]
    x = feature_matrix(rows)
    blank = zero_norm(x)
    if blank.any():
        log.warning(
            "moa_matching: %d treatment profile(s) have zero norm (no direction) and take no part: %s",
            blank.sum(),
            rows.loc[blank, group].astype(str).tolist()[:5],
        )
        rows, x = rows.loc[~blank], x[~blank]
    if batches is None and BATCH in rows.columns:
        batches = rows[BATCH].map(lambda b: frozenset([b]))
    moa = rows[label].astype(str).to_numpy()
    compound = pd.factorize(group_values(rows, group))[0]
    normed = unit_rows(x).astype(np.float32)
    index = rows.index.to_numpy()
    undefined: dict[str, str] = {}
    rules = {"nsc": lambda a, b: compound[a] != compound[b]}
    if batches is not None:
        member = _batch_membership(rows, batches)
        disjoint = _disjoint_batches(member)
        rules["nscb"] = lambda a, b: (compound[a] != compound[b]) & disjoint(a, b)
    neighbours = nearest(normed, rules, moa)
    nsc = neighbours["nsc"]
    matchable = pd.Series(compound).groupby(moa).nunique().loc[moa].to_numpy() > 1  # another compound has its MoA
    scored = (nsc.index >= 0) & matchable
    table = pd.DataFrame(
        {
            "treatment_index": index,
            label: moa,
            group: group_values(rows, group),
            "nsc_match": np.where(scored, index[nsc.index], -1),
            "nsc_ties": nsc.n_tied,
            "nsc_scored": scored,
            "nsc_correct": np.where(scored, nsc.agreement, np.nan),
        }
    )
    n_nsc = int(scored.sum())
    nsc_value = _accuracy(
        nsc.agreement,
        scored,
        moa,
        "nsc",
        f"no treatment has a neighbour of another compound with its MoA ({len(rows)} labelled treatment(s), {len(set(compound))} compound(s))",
        undefined,
    )
    nscb_value, n_nscb = float("nan"), 0
    if batches is None:
        undefined["nscb"] = f"no batches: the profiles have no {BATCH} column"
    else:
        moa_batches = pd.DataFrame(member, index=moa).groupby(level=0).max().sum(axis=1)
        nscb = neighbours["nscb"]
        in_batches = (moa_batches.loc[moa].to_numpy() > 1) & (nscb.index >= 0) & matchable
        table["nscb_scored"] = in_batches
        table["nscb_match"] = np.where(nscb.index >= 0, index[nscb.index], -1)
        table["nscb_correct"] = np.where(in_batches, nscb.agreement, np.nan)
        n_nscb = int(in_batches.sum())
        why = (
            "no treatment has a neighbour of another compound in another batch (every MoA in one batch, or every treatment in every batch)"
        )
        nscb_value = _accuracy(nscb.agreement, in_batches, moa, "nscb", why, undefined)
    return MatchingResult(table, nsc_value, nscb_value, n_nsc, n_nscb, undefined)


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
