"""Scoring a profile table made anywhere (pycytominer, CellProfiler, another embedding): NSC, NSCB,
k-NN of wells and the mAPs of activity and consistency, as the evaluate pipeline scores a model.

The table follows the pycytominer layout: ``Metadata_*`` columns and numeric features, one row per
well (``level: well``; treatment profiles are then the median over wells, WS-DINO) or per
treatment (``level: treatment``; the metrics that need replicate wells are undefined, with the
reason). Its own column names are mapped onto the scorer's: the MoA label, the compound (never a
neighbour of itself), the treatment (compound and, when given, its dose), the batch (NSCB) and the
controls (a ``COLUMN=VALUE`` test, e.g. ``Metadata_pert_type=control``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa

from cell_dino.data.errors import DataError
from cell_dino.data.tables import csv_header, read_csv_any_newline
from cell_dino.evaluate.nsc import BATCH
from cell_dino.evaluate.scorecard import METRICS, ScoringSpec, finite_or_none, score
from cell_dino.integrate.finite import finite_profiles
from cell_dino.integrate.levels import TREATMENT_KEYS, treatment_profiles
from cell_dino.integrate.normalise import Method, normalised
from cell_dino.integrate.table import CONTROL, control_flags, declared_features, feature_columns, metadata_columns

Level = Literal["well", "treatment"]
TREATMENT = TREATMENT_KEYS[0]
WELL_METRICS = ("knn_well", "map_activity", "fraction_active")  # need replicate wells


@dataclasses.dataclass(frozen=True)
class TableColumns:
    """Which of the table's columns hold what the metrics need (``None``: not in the table)."""

    label: str = "Metadata_MoA"
    compound: str = "Metadata_Compound"
    dose: str | None = None  # with the compound, makes the treatment (compound@dose)
    treatment: str | None = None  # a ready treatment column (instead of compound and dose)
    batch: str | None = "Metadata_Batch"
    control: str | None = None  # COLUMN=VALUE; None: a boolean Metadata_Control column if present


def written_names(path: Path) -> list[str]:
    """The column names as the file writes them, repeats included (a CSV reader renames a repeat
    to ``name.1``; Arrow refuses to read a parquet file with repeated names)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_schema(path).names
    return csv_header(path)


def read_profile_table(path: str | Path, feature_prefixes: tuple[str, ...] | None = None) -> pd.DataFrame:
    """A ``.csv`` (plain or gzipped) or ``.parquet`` profile table with its features declared
    (:func:`cell_dino.integrate.table.declared_features`: ``feature_prefixes``, else CellProfiler's
    compartments, else every non-``Metadata_*`` column; index, object-number and location columns
    never); raises naming the file when it has no ``Metadata_*`` or no numeric feature columns, or
    repeated column names."""
    path = Path(path)
    try:
        names = written_names(path)
        table = pd.read_parquet(path) if path.suffix == ".parquet" else read_csv_any_newline(path)
    except (UnicodeDecodeError, pd.errors.ParserError, pa.ArrowException) as exc:
        raise DataError(f"{path}: not a readable {'parquet' if path.suffix == '.parquet' else 'CSV'} table ({exc})") from exc
    if not metadata_columns(table):
        raise ValueError(f"{path}: no Metadata_* columns: a profile table has metadata (Metadata_*) and feature columns")
    table = declared_features(table, feature_prefixes, str(path), names)
    try:
        feature_columns(table)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return table


def _require(table: pd.DataFrame, column: str, option: str, source: str) -> None:
    if column not in table.columns:
        similar = [c for c in table.columns if c.lower().removeprefix("metadata_") == column.lower().removeprefix("metadata_")]
        hint = f" (did you mean {similar[0]}?)" if similar else ""
        raise ValueError(f"{source}: {option} column {column!r} not in the table{hint}; its Metadata_* columns: {metadata_columns(table)}")


def standard_columns(table: pd.DataFrame, columns: TableColumns, source: str) -> pd.DataFrame:
    """The table with the scorer's columns added: ``Metadata_Treatment``, ``Metadata_Control``
    (bool, from booleans, 0/1 or true/false text) and ``Metadata_Batch``; raises naming the option
    and the column that is missing, or the row whose control flag is neither."""
    c = columns
    for column, option in (
        (c.label, "--label"),
        (c.compound, "--compound"),
        (c.dose, "--dose"),
        (c.treatment, "--treatment"),
        (c.batch, "--batch"),
    ):
        if column is not None:
            _require(table, column, option, source)
    table = table.copy()
    if c.control is not None:
        column, equals, value = c.control.partition("=")
        if not equals:
            raise ValueError(f"--control {c.control!r}: give COLUMN=VALUE, e.g. Metadata_pert_type=control")
        _require(table, column, "--control", source)
        table[CONTROL] = table[column].astype(str) == value
    elif CONTROL in table.columns:
        try:
            table[CONTROL] = control_flags(table[CONTROL])
        except DataError as error:
            raise DataError(f"{source}: {error}") from None
    if c.treatment is not None:
        table[TREATMENT] = table[c.treatment].astype(str)
    else:
        dose = "" if c.dose is None else "@" + table[c.dose].map("{:g}".format)
        table[TREATMENT] = table[c.compound].astype(str) + dose
    if c.batch is not None and c.batch != BATCH:
        table[BATCH] = table[c.batch].astype(str)
    return table


def score_table(
    table: pd.DataFrame, level: Level, columns: TableColumns, normalisation: Method, spec: ScoringSpec, source: str
) -> tuple[dict, pd.DataFrame]:
    """One JSON-ready record (``n_rows``, ``n_treatments``, every metric or null, ``undefined``
    reasons, ``nonfinite`` dropped) and a ``metric, value, note`` table of the same figures."""
    table = standard_columns(table, columns, source)
    table, dropped = finite_profiles(table, "drop", source)
    if normalisation != "none":
        table = normalised(table, normalisation)
    spec = dataclasses.replace(spec, label=columns.label, group=columns.compound, treatment=TREATMENT)
    treatments = treatment_profiles(table) if level == "well" else table
    card = score(table, treatments, spec)
    undefined, figures = dict(card.undefined), {k: finite_or_none(v) for k, v in card.summary.items()}
    if level == "treatment":
        for metric in WELL_METRICS:
            figures[metric], undefined[metric] = None, "needs replicate well profiles: score the well-level table (--level well)"
    for kind in ("activity", "consistency"):  # the groups (treatments, MoAs) each mAP averages
        scored = card.maps[card.maps["kind"] == kind] if "kind" in card.maps else card.maps
        figures[f"n_map_{kind}"] = int(scored["mean_average_precision"].notna().sum()) if figures[f"map_{kind}"] is not None else 0
    record = {"file": source, "level": level, "normalisation": normalisation, "n_rows": len(table), "n_treatments": len(treatments)}
    record |= figures | {"undefined": undefined, "nonfinite": dropped}
    counts = {"nsc": "n_nsc", "nscb": "n_nscb", "map_activity": "n_map_activity", "fraction_active": "n_map_activity"}
    counts |= {"map_consistency": "n_map_consistency", "fraction_consistent": "n_map_consistency"}
    notes = [
        {"metric": m, "value": figures.get(m), "note": undefined.get(m, f"of {figures[counts[m]]}" if m in counts else "")} for m in METRICS
    ]
    return record, pd.DataFrame(notes)
