"""Mean average precision with permutation p-values (copairs; Kalinin et al. 2025).

- **Phenotypic activity**: can a treatment's replicates be told apart from the controls? Each
  non-control profile retrieves its replicates (same treatment) against the control profiles.
- **Phenotypic consistency**: do treatments sharing a MoA retrieve each other? Positives share the
  MoA but not the compound; negatives share no MoA. MoA values holding ``|`` are multi-label: each
  of a query's labels is scored on its own, against the profiles that share none of its labels.

Average precisions come from :mod:`cell_dino.evaluate.average_precision` (tie-aware, memory
bounded by a block of queries); copairs gives mAP per group, p-values from its null distribution
and FDR-corrected q-values. Its null-distribution cache goes to ``cache_dir`` (a temporary folder
when not given), never to the home folder. Zero-norm profiles (cosine similarity undefined) take
no part, with a warning; a mAP with no query that has both positives and negatives raises
:class:`~cell_dino.core.undefined.Undefined`.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from cell_dino.core.undefined import needs, require
from cell_dino.evaluate.average_precision import blocked_average_precision
from cell_dino.evaluate.neighbours import zero_norm
from cell_dino.integrate.table import CONTROL, controls, feature_matrix, metadata_columns, treated

log = logging.getLogger(__name__)

MOA, COMPOUND = "Metadata_MoA", "Metadata_Compound"
MULTILABEL_SEPARATOR = "|"


def _directed(profiles: pd.DataFrame, what: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Metadata and features of the rows with a direction (non-zero norm)."""
    x = feature_matrix(profiles)
    blank = zero_norm(x)
    if blank.any():
        log.warning("%s: %d zero-norm profile(s) (no direction, cosine similarity undefined) take no part", what, blank.sum())
    meta = profiles.loc[~blank, metadata_columns(profiles)].reset_index(drop=True)
    return meta, x[~blank]


def _map(ap: pd.DataFrame, sameby: list[str], null_size: int, threshold: float, seed: int, cache_dir: Path | None) -> pd.DataFrame:
    from copairs.map import mean_average_precision

    with tempfile.TemporaryDirectory(prefix="copairs-") as scratch:
        return mean_average_precision(
            ap,
            sameby,
            null_size=null_size,
            threshold=threshold,
            seed=seed,
            progress_bar=False,
            max_workers=1,
            cache_dir=cache_dir or Path(scratch),
        )


def _scorable(ap: pd.DataFrame, what: str) -> None:
    scorable = (ap["n_pos_pairs"] > 0) & (ap["n_total_pairs"] > ap["n_pos_pairs"])
    require(bool(scorable.any()), f"{what}: no query has both a positive and a negative profile ({len(ap)} queries)")


def phenotypic_activity(
    profiles: pd.DataFrame,
    treatment: str = "Metadata_Treatment",
    null_size: int = 10000,
    threshold: float = 0.05,
    seed: int = 0,
    cache_dir: Path | None = None,
) -> pd.DataFrame:
    """Per-treatment mAP of replicate retrieval against controls, p-values and FDR-corrected q-values."""
    needs(profiles.columns, [treatment, CONTROL], "phenotypic activity")
    meta, x = _directed(profiles, "phenotypic activity")
    is_control = controls(meta)
    require(bool(is_control.any()), f"phenotypic activity needs control profiles ({CONTROL} true); there are none")
    codes = pd.factorize(meta[treatment])[0]
    queried = np.flatnonzero(~is_control)

    def replicates_and_controls(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        queries = queried[positions]
        columns = np.flatnonzero(is_control | np.isin(codes, codes[queries]))
        positive = (codes[None, columns] == codes[queries, None]) & ~is_control[None, columns] & (columns[None, :] != queries[:, None])
        return columns, positive, np.broadcast_to(is_control[columns], positive.shape)

    scores = blocked_average_precision(x, replicates_and_controls, queried)
    ap = pd.concat([meta.iloc[queried].reset_index(drop=True), scores], axis=1)
    _scorable(ap, "phenotypic activity (a treatment needs two replicates)")
    return _map(ap, [treatment], null_size, threshold, seed, cache_dir)


def phenotypic_consistency(
    profiles: pd.DataFrame,
    moa: str = MOA,
    compound: str = COMPOUND,
    null_size: int = 10000,
    threshold: float = 0.05,
    seed: int = 0,
    cache_dir: Path | None = None,
) -> pd.DataFrame:
    """Per-MoA mAP of MoA retrieval across compounds (controls and unlabelled rows left out)."""
    needs(profiles.columns, [moa, compound], "phenotypic consistency")
    meta, x = _directed(treated(profiles, moa), "phenotypic consistency")
    labels = meta[moa].astype(str).str.split(MULTILABEL_SEPARATOR, regex=False)
    names = sorted({name for row in labels for name in row})
    member = np.zeros((len(meta), len(names)), dtype=np.float32)
    for i, row in enumerate(labels):
        member[i, [names.index(name) for name in row]] = 1.0
    compounds = pd.factorize(meta[compound].astype(str))[0]
    query, label = np.nonzero(member)  # one query per (profile, label)

    everyone = np.arange(len(meta))

    def same_and_other_labels(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        positive = (member[:, label[pairs]].T > 0) & (compounds[None, :] != compounds[query[pairs], None])
        return everyone, positive, member[query[pairs]] @ member.T == 0

    scores = blocked_average_precision(x, same_and_other_labels, query)
    ap = pd.concat([meta.iloc[query].reset_index(drop=True).assign(**{moa: np.asarray(names)[label]}), scores], axis=1)
    _scorable(ap, "phenotypic consistency (a MoA needs two compounds, and another MoA is needed)")
    return _map(ap, [moa], null_size, threshold, seed, cache_dir)
