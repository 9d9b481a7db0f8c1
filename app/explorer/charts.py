"""Figures the explorer draws from stored arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go


def heads_figure(heads: np.ndarray, title: str, names: list[str] | None = None) -> go.Figure:
    """One heatmap per attention head (heads x H x W), labelled by ``names`` (default ``head i``)."""
    figure = px.imshow(heads, facet_col=0, facet_col_wrap=min(len(heads), 4), color_continuous_scale="Inferno", title=title)
    labels = names if names is not None else [f"head {h}" for h in range(len(heads))]
    figure.for_each_annotation(lambda a: a.update(text=labels[int(a.text.removeprefix("facet_col="))]))
    return figure


def training_curve(metrics: pd.DataFrame, curve: str, colour: str | None = None) -> go.Figure:
    """One per-epoch training curve of a run's metrics table. Teacher entropy gets the uniform
    distribution's entropy, ``log(out_dim)``, as a dashed line; every curve marks the epochs the
    health monitors flagged as collapsed with a red cross (hover: the reason)."""
    figure = px.line(metrics, x="epoch", y=curve, color=colour, markers=True, title=curve)
    if curve == "teacher_entropy" and "log_out_dim" in metrics:
        figure.add_hline(
            y=float(metrics["log_out_dim"].max()), line_dash="dash", line_color="grey", annotation_text="uniform: log(out_dim)"
        )
    if "collapse" in metrics:
        flagged = metrics[metrics["collapse"].notna()]
        if not flagged.empty:
            figure.add_trace(
                go.Scatter(
                    x=flagged["epoch"],
                    y=flagged[curve],
                    mode="markers",
                    name="collapsed",
                    marker={"symbol": "x", "size": 12, "color": "red"},
                    hovertext=flagged["collapse"],
                )
            )
    return figure


REFERENCES = {"cellprofiler": ("CellProfiler", "dash"), "random": ("random init", "dot")}


def _reference(model: str) -> str | None:
    """Which reference a model is: CellProfiler features, a random-init twin, or none."""
    return "cellprofiler" if model == "cellprofiler" else "random" if model.endswith("_random") else None


def ladder_figure(points: pd.DataFrame, title: str = "The model ladder") -> go.Figure:
    """Each model a point per metric (``points``: model, metric, mean, std), seed standard deviation
    as error bars where there are several seeds; CellProfiler features and the random-init twins
    also drawn as reference segments across each metric's band, so a learned model reads against them."""
    metrics = list(dict.fromkeys(points["metric"]))
    figure = px.scatter(
        points, x="metric", y="mean", color="model", error_y="std", title=title, labels={"mean": "score"}, category_orders={"metric": metrics}
    )
    figure.update_layout(scattermode="group", scattergap=0.4)
    for row in points.itertuples():
        reference = _reference(row.model)
        if reference is None:
            continue
        i = metrics.index(row.metric)
        label, dash = REFERENCES[reference]
        figure.add_shape(
            type="line",
            x0=i - 0.45,
            x1=i + 0.45,
            y0=row.mean,
            y1=row.mean,
            xref="x",
            yref="y",
            line={"dash": dash, "color": "black" if reference == "cellprofiler" else "grey", "width": 1},
            name=f"{label} ({row.model})",
        )
    return figure


def compute_curve_figure(points: pd.DataFrame) -> go.Figure:
    """Each metric against the training budget (``points``: model, metric, epochs, mean, std),
    mean over seeds with their standard deviation as bars; references (CellProfiler, random-init
    twins) dashed."""
    kind = points["model"].map(lambda m: REFERENCES[_reference(m)][0] if _reference(m) else "learned")
    figure = px.line(
        points.assign(kind=kind),
        x="epochs",
        y="mean",
        error_y="std",
        color="model",
        line_dash="kind",
        facet_col="metric",
        facet_col_wrap=3,
        markers=True,
        log_x=True,
        title="Compute curve: scores by training epochs (mean and sd over seeds)",
    )
    figure.for_each_annotation(lambda a: a.update(text=a.text.removeprefix("metric=")))
    return figure
