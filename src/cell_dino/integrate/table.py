"""The profile table contract (``Metadata_*`` columns plus numeric feature columns) and the row
selections every step shares: controls, labelled treated rows, seeded subsets, unit rows."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from cell_dino.data.errors import DataError
from cell_dino.data.manifest import metadata_columns
from cell_dino.integrate.finite import nonfinite_cells

METADATA_PREFIX = "Metadata_"
CONTROL = "Metadata_Control"
FOV = "Metadata_FOV"
ZERO_NORM = 1e-12
SHOWN = 5  # columns named in a log line
log = logging.getLogger(__name__)
__all__ = [
    "control_flags",
    "controls",
    "declared_features",
    "feature_columns",
    "feature_matrix",
    "group_values",
    "label_of",
    "metadata_columns",
    "require_columns",
    "row_norms",
    "seeded_rows",
    "seeded_subset",
    "treated",
    "unit_rows",
    "with_features",
]


# never features: pandas' written index, CellProfiler's object and table numbers and bare object locations
# (a compartment's Location measurements, e.g. Cells_Location_Center_X, are CellProfiler features as pycytominer reads them)
NOT_FEATURES = re.compile(r"^(Unnamed: \d+(\.\d+)?|index|level_\d+|ImageNumber|ObjectNumber|TableNumber)$|^Location_")
# CellProfiler's object relations and numbering: not features of a CellProfiler table (pycytominer's blocklist drops them)
CELLPROFILER_NOT_FEATURES = re.compile(r"_Parent_|_Number_Object_Number$")
# CellProfiler's object compartments: pycytominer's infer_cp_features defaults (Image_ measurements are not profiles)
CELLPROFILER_COMPARTMENTS = ("Cells_", "Cytoplasm_", "Nuclei_")


def declared_features(
    table: pd.DataFrame, prefixes: tuple[str, ...] | None = None, source: str = "profile table", names: list[str] | None = None
) -> pd.DataFrame:
    """``table`` with its feature columns declared, not guessed: with ``prefixes``, the columns that
    start with one of them; else for a CellProfiler table (any column of an object compartment:
    ``Cells_``, ``Cytoplasm_``, ``Nuclei_``, pycytominer's ``infer_cp_features`` defaults) only those;
    else every column that is not ``Metadata_*``. Columns that are never features (:data:`NOT_FEATURES`:
    ``Unnamed: 0``, ``ImageNumber``, ``ObjectNumber``, ``TableNumber``, ``Location_*``; in a
    CellProfiler table also ``*_Parent_*`` and ``*_Number_Object_Number``) and the undeclared ones are
    dropped, named in a log line. ``names``: the column names as the file writes them (a CSV reader renames a
    repeat to ``name.1``); raises ValueError naming ``source`` and the columns when a feature's name
    repeats, or when no feature is left."""
    written = pd.Index(table.columns if names is None else names)
    repeated = sorted(set(written[written.duplicated()]) - {c for c in written if NOT_FEATURES.search(str(c))})
    if repeated:
        raise ValueError(f"{source}: column names repeat: {repeated[:5]}")
    candidates = [c for c in table.columns if not c.startswith(METADATA_PREFIX)]
    if prefixes:
        declared = [c for c in candidates if c.startswith(tuple(prefixes))]
    elif any(c.startswith(CELLPROFILER_COMPARTMENTS) for c in candidates):
        declared = [c for c in candidates if c.startswith(CELLPROFILER_COMPARTMENTS) and not CELLPROFILER_NOT_FEATURES.search(c)]
    else:
        declared = candidates
    declared = [c for c in declared if not NOT_FEATURES.search(c)]
    dropped = [c for c in candidates if c not in declared]
    if not declared:
        raise ValueError(f"{source}: no feature columns{f' start with {list(prefixes)}' if prefixes else ''} (columns: {list(table.columns)[:10]})")
    if dropped:
        log.info("%s: %d column(s) that are not features left out: %s", source, len(dropped), dropped[:SHOWN])
    return table.drop(columns=dropped)


def feature_columns(profiles: pd.DataFrame) -> list[str]:
    """Every column that is not ``Metadata_*`` (nor never a feature, :data:`NOT_FEATURES`); all must
    be numeric. Tables read from elsewhere go through :func:`declared_features` first."""
    features = [c for c in profiles.columns if not c.startswith(METADATA_PREFIX) and not NOT_FEATURES.search(c)]
    if not features:
        raise ValueError(f"profile table has no feature columns (columns: {list(profiles.columns)[:10]})")
    kinds = dict(zip(profiles.columns, profiles.dtypes, strict=True))  # one lookup per column (profiles[c] took 5 s a chain)
    bad = [c for c in features if not pd.api.types.is_numeric_dtype(kinds[c])]
    if bad:
        raise ValueError(f"feature columns must be numeric; not: {bad[:5]} (prefix metadata with {METADATA_PREFIX})")
    return features


def feature_matrix(profiles: pd.DataFrame) -> np.ndarray:
    """``rows x features`` float64; raises :class:`~cell_dino.data.errors.DataError` naming the first
    non-finite values (drop them first with :func:`cell_dino.integrate.finite.finite_profiles`)."""
    features = feature_columns(profiles)
    values = profiles[features].to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise DataError(f"non-finite feature values: {nonfinite_cells(profiles, features)}")
    return values


def with_features(profiles: pd.DataFrame, values: np.ndarray, prefix: str | None = None) -> pd.DataFrame:
    """The metadata of ``profiles`` beside new feature values (named ``prefix_i`` if given, else kept)."""
    meta = profiles[metadata_columns(profiles)].reset_index(drop=True)
    names = [f"{prefix}_{i}" for i in range(values.shape[1])] if prefix else feature_columns(profiles)
    if len(names) != values.shape[1]:
        raise ValueError(f"{values.shape[1]} feature values for {len(names)} feature names")
    return pd.concat([meta, pd.DataFrame(values.astype(np.float32), columns=names)], axis=1)


def require_columns(profiles: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in profiles.columns]
    if missing:
        raise ValueError(f"{what}: column(s) {missing} not in the profile table ({metadata_columns(profiles)})")


def label_of(table: pd.DataFrame, by: list[str]) -> pd.Series:
    """One readable label per row from the ``by`` columns (joined by ' @ ')."""
    require_columns(table, by, "labels")
    return table[by].astype(str).agg(" @ ".join, axis=1)


def partition(profiles: dict, key: str) -> pd.DataFrame:
    """One table of a set of profiles keyed by level (``fov``, ``<method>/well``, ...): loaded when
    it is a loader (a partitioned dataset's), as it is when it is a table (an in-memory run's)."""
    value = profiles[key]
    return value() if callable(value) else value


TRUE_TEXT = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_TEXT = frozenset({"false", "f", "no", "n", "0", "0.0", ""})
MISSING_TEXT = frozenset({"nan", "none", "<na>"})  # missing values written out as text


def controls(table: pd.DataFrame) -> np.ndarray:
    """The control rows (``Metadata_Control`` true; none without the column); see :func:`control_flags`."""
    if CONTROL not in table.columns:
        return np.zeros(len(table), dtype=bool)
    return control_flags(table[CONTROL])


def control_flags(values: pd.Series) -> np.ndarray:
    """``values`` (a ``Metadata_Control`` column of any dtype: numpy, nullable, arrow, categorical
    or object) as booleans: booleans, 0/1, or the text true/false, yes/no, t/f, y/n, 1/0 in any
    case (a CSV's ``"False"`` is not a control); missing is not a control. Raises DataError naming
    the column, a row and its value otherwise."""
    if values.dtype == bool:  # the project's own tables: nothing to read
        return values.to_numpy()
    present = values.notna().to_numpy()
    text = values.astype(object).where(present, "").astype(str).str.strip().str.lower()
    flags = text.isin(TRUE_TEXT).to_numpy()
    known = (text.isin(TRUE_TEXT | FALSE_TEXT | MISSING_TEXT)).to_numpy()
    if not known.all():
        row = int(np.flatnonzero(~known)[0])
        value = values.iloc[row].item() if isinstance(values.iloc[row], np.generic) else values.iloc[row]
        raise DataError(f"{values.name}: row {row} is {value!r}, not a control flag (true/false, yes/no, 1/0; missing: not a control)")
    return flags


def group_values(table: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` as text per row, for grouped splits and "never its own neighbour" rules. A row
    without a value (an HPA Kaggle image has no antibody) is grouped with its field
    (``Metadata_FOV``: the cells of one image are never split across folds), or is a group of its
    own where there is no field; never one group with every other row that lacks it."""
    own = table[FOV].astype(str) if FOV in table else pd.Series(range(len(table)), index=table.index).astype(str)
    return table[column].astype("string").fillna("<no " + column + ": " + own + ">").to_numpy(dtype=str)


def treated(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """The labelled rows that are not controls, with a fresh index."""
    return table.loc[table[label].notna().to_numpy() & ~controls(table)].reset_index(drop=True)


def seeded_rows(n_rows: int, n: int, seed: int | list[int]) -> np.ndarray:
    """``n`` distinct row positions of ``n_rows`` (all when fewer), drawn with ``seed``, sorted."""
    if n >= n_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, n, replace=False))


def seeded_subset(table: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """At most ``n`` rows of ``table`` drawn with ``seed``, in table order, with a fresh index."""
    return table.iloc[seeded_rows(len(table), n, seed)].reset_index(drop=True)


def row_norms(x: np.ndarray) -> np.ndarray:
    """L2 norm of each row (``np.linalg.norm(x, axis=1)`` takes 150 times longer on 100k x 384)."""
    return np.sqrt(np.einsum("ij,ij->i", x, x))


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    return x / np.maximum(row_norms(x), ZERO_NORM)[:, None]
