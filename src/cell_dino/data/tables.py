"""Reading metadata tables as they come from real downloads (gzip, CR-only line endings, BOMs)."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from cell_dino.data.errors import ManifestError

# identifiers that must stay text (a plate called 0042 is not the number 42)
TEXT_COLUMNS = ("Metadata_Plate", "Metadata_Well", "Metadata_Batch", "Metadata_FOV", "Metadata_Compound", "Metadata_Treatment",
                "Image_Metadata_Plate_DAPI", "Image_Metadata_Well_DAPI", "Image_Metadata_Compound", "Image_Metadata_Plate", "Image_Metadata_Well",
                "Id", "ID", "Target", "Label", "compound")  # HPA label columns: "16 0", "8|5|0", or a lone "5"


def read_csv_any_newline(path: str | Path, text_columns: Iterable[str] = TEXT_COLUMNS) -> pd.DataFrame:
    """Read a CSV whatever its line endings (``\\n``, ``\\r\\n`` or ``\\r`` alone), compression or
    delimiter (comma, tab or semicolon, sniffed from the header). ``text_columns`` (identifiers:
    plates, wells, compounds, file names) are kept as text, so a plate ``0042`` stays ``0042``.

    The original BBBC021 MoA table has carriage-return-only line endings, which most CSV
    readers take as a single line.
    """
    text, header, sep = _decoded(path)
    columns = set(header.split(sep))
    text_dtypes = {c: str for c in columns if c in set(text_columns) or c.startswith(("FileName_", "PathName_", "URL_"))}
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=text_dtypes)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ManifestError(f"{path}: cannot parse as CSV ({exc})") from exc


def _decoded(path: str | Path) -> tuple[str, str, str]:
    """A CSV's text with ``\n`` line endings, its header line and its delimiter (comma, tab or semicolon)."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: metadata table not found")
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    header = text.split("\n", 1)[0]
    return text, header, max(",\t;", key=header.count) if header else ","


def csv_header(path: str | Path) -> list[str]:
    """The column names of a CSV as written, repeats included (pandas renames a repeat to ``name.1``)."""
    _, header, sep = _decoded(path)
    return next(csv.reader([header], delimiter=sep)) if header else []


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
