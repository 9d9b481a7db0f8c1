"""Tables as the explorer shows them: a dataframe with CSV and parquet download buttons, so every
table on a page can be taken into pycytominer, copairs, a notebook or a spreadsheet."""

from __future__ import annotations

import io
import re
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler


def csv_bytes(frame: pd.DataFrame, index: bool) -> bytes:
    return frame.to_csv(index=index).encode()


def parquet_bytes(frame: pd.DataFrame, index: bool) -> bytes:
    """Parquet of ``frame``; column names made text (parquet needs them so)."""
    buffer = io.BytesIO()
    frame.set_axis([str(c) for c in frame.columns], axis=1).to_parquet(buffer, index=index)
    return buffer.getvalue()


def table(data: pd.DataFrame | Styler, name: str, hide_index: bool = False, **options: Any) -> None:
    """``st.dataframe(data, hide_index=..., **options)`` followed by two download buttons,
    ``<name>.csv`` and ``<name>.parquet``, of the values shown (a Styler's underlying frame); the
    index is kept in the files unless hidden. ``name`` (a file stem) also keys the buttons, so it
    must be unique on the page. The files are written when a button is clicked, not on every rerun."""
    frame = data.data if isinstance(data, Styler) else data
    st.dataframe(data, hide_index=hide_index, **options)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    csv, parquet = st.columns(2)
    csv.download_button("CSV", partial(csv_bytes, frame, not hide_index), f"{stem}.csv", "text/csv", key=f"csv_{stem}")
    parquet.download_button(
        "parquet", partial(parquet_bytes, frame, not hide_index), f"{stem}.parquet", "application/octet-stream", key=f"parquet_{stem}"
    )
