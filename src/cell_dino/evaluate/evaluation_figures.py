"""Plotly figures of evaluation results, saved as plotly JSON for the explorer."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go


def umap_figure(coordinates: pd.DataFrame, colour: str = "Metadata_MoA", title: str = "") -> go.Figure:
    hover = [
        c for c in ("Metadata_Compound", "Metadata_Treatment", "Metadata_Plate", "Metadata_Well", "Metadata_Index") if c in coordinates
    ]
    figure = px.scatter(
        coordinates,
        x="umap_0",
        y="umap_1",
        color=colour if colour in coordinates else None,
        hover_data=hover,
        title=title,
        render_mode="webgl",
        opacity=0.7,
    )
    return figure.update_traces(marker={"size": 4}).update_layout(legend_title_text=colour.removeprefix("Metadata_"))


def confusion_figure(confusion: pd.DataFrame, title: str = "") -> go.Figure:
    """Row-normalised confusion matrix (true rows, predicted columns), counts in the hover."""
    shares = confusion.div(confusion.sum(axis=1).where(lambda s: s > 0, 1), axis=0)
    figure = px.imshow(
        shares,
        x=list(confusion.columns),
        y=list(confusion.index),
        zmin=0,
        zmax=1,
        color_continuous_scale="Blues",
        labels={"x": "predicted", "y": "true", "color": "share"},
        title=title,
        text_auto=".2f",
    )
    return figure.update_traces(
        customdata=confusion.to_numpy(), hovertemplate="true %{y}<br>predicted %{x}<br>share %{z:.2f}<br>n %{customdata}"
    )


def factor_figure(shares: pd.DataFrame, title: str = "") -> go.Figure:
    """Stacked bar of the share of features most informative about each factor, one bar per model."""
    return px.bar(shares, x="model", y="share", color="factor", title=title, labels={"share": "share of features"})
