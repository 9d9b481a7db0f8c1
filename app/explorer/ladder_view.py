"""The model ladder as a table and a chart (this run's figures), and, where ``benchmarks/ladder.py``
has written one, the ladder over seeds with their standard deviation and the compute curve."""

from __future__ import annotations

import streamlit as st

from cell_dino.evaluate.ladder import curve_points, ladder_points, model_ladder
from explorer.catalog import Missing, load
from explorer.charts import compute_curve_figure, ladder_figure
from explorer.table_downloads import table

CURVE_COMMAND = "python benchmarks/ladder.py --stores data --epochs 2 8 32 --seeds 0 1 2"


def _optional(env: str, name: str) -> dict | None:
    try:
        return load(env, name)
    except Missing:
        return None


def show_ladder(env: str, evaluate_report: dict) -> None:
    """The ladder of ``evaluate_report`` (with the profile run's Mantel r) as a table and a chart;
    then the benchmark's seeds and budgets, or how to make them."""
    ladder = model_ladder(evaluate_report, _optional(env, "profile_report"))
    table(ladder.style.format("{:.3f}", na_rep="undefined"), "model_ladder", width="stretch")
    st.plotly_chart(ladder_figure(ladder_points(ladder), "The model ladder (this run: one seed)"), width="stretch", key="ladder_chart")
    record = _optional(env, "ladder_curve")
    if record is None:
        st.caption(f"Seed spread and the compute curve: `{CURVE_COMMAND}` writes them.")
        return
    points = curve_points(record)
    if points.empty:
        st.caption("The benchmark's record holds no defined figure.")
        return
    largest = points[points["epochs"] == points["epochs"].max()]
    title = f"The model ladder over seeds {record['seeds']} at {largest['epochs'].iloc[0]} epochs (bars: sd)"
    st.plotly_chart(ladder_figure(largest, title), width="stretch", key="ladder_seeds_chart")
    st.plotly_chart(compute_curve_figure(points), width="stretch", key="compute_curve")
