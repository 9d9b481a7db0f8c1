"""Reading metadata tables as they come from real downloads (gzip, CR-only line endings, BOMs)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pandas as pd

from cell_dino.data.errors import ManifestError


def read_csv_any_newline(path: str | Path) -> pd.DataFrame:
    """Read a CSV whatever its line endings (``\\n``, ``\\r\\n`` or ``\\r`` alone) or compression.

    The original BBBC021 MoA table has carriage-return-only line endings, which most CSV
    readers take as a single line.
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: metadata table not found")
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    try:
        return pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ManifestError(f"{path}: cannot parse as CSV ({exc})") from exc


def require_rows(table: pd.DataFrame, source: str | Path) -> None:
    """Raise a :class:`ManifestError` naming ``source`` when the table has a header and no rows."""
    if table.empty:
        raise ManifestError(f"{source}: no fields in this table (a header and no rows)")


def require_columns(table: pd.DataFrame, columns: list[str], source: str | Path) -> None:
    """Raise a :class:`ManifestError` naming ``source`` and every absent column."""
    absent = [c for c in columns if c not in table.columns]
    if absent:
        raise ManifestError(
            f"{source}: required column(s) absent: {absent}; columns present: {list(table.columns)}"
        )
