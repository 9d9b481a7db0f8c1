"""Figures the explorer draws from stored arrays."""

from __future__ import annotations

import numpy as np
import plotly.express as px
import plotly.graph_objects as go


def heads_figure(heads: np.ndarray, title: str, names: list[str] | None = None) -> go.Figure:
    """One heatmap per attention head (heads x H x W), labelled by ``names`` (default ``head i``)."""
    figure = px.imshow(heads, facet_col=0, facet_col_wrap=min(len(heads), 4), color_continuous_scale="Inferno", title=title)
    labels = names if names is not None else [f"head {h}" for h in range(len(heads))]
    figure.for_each_annotation(lambda a: a.update(text=labels[int(a.text.removeprefix("facet_col="))]))
    return figure
