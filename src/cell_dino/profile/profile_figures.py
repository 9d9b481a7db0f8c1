"""Plotly figures of the profiling analyses, saved as plotly JSON for the explorer."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go


def skipped(reason: str) -> go.Figure:
    """An empty figure whose title says why the analysis did not run."""
    return go.Figure().update_layout(title=f"not computed: {reason}")


def similarity_heatmap(similarity: pd.DataFrame, title: str = "") -> go.Figure:
    """Cosine similarity in the given row/column order (clustered or annotated)."""
    labels = [str(label) for label in similarity.index]
    return px.imshow(
        similarity.to_numpy(),
        x=labels,
        y=labels,
        zmin=-1,
        zmax=1,
        color_continuous_scale="RdBu_r",
        labels={"color": "cosine"},
        title=title,
        aspect="auto",
    )


def pseudotime_figure(cells: pd.DataFrame, colour: str, title: str = "") -> go.Figure:
    """Cells on the first two diffusion components (the first against pseudotime when the diffusion
    map has one; few cells, e.g. 16 fields, can give one), coloured by pseudotime, symbol by ``colour``."""
    hover = [c for c in (colour, "Metadata_Compound", "Metadata_Concentration", "Metadata_Index") if c in cells]
    axes = [c for c in ("dc_1", "dc_2") if c in cells] + ["pseudotime"]
    figure = px.scatter(
        cells,
        x=axes[0],
        y=axes[1],
        color="pseudotime",
        symbol=colour if colour in cells else None,
        hover_data=hover,
        color_continuous_scale="Viridis",
        title=title,
        render_mode="webgl",
    )
    return figure.update_layout(legend={"orientation": "h", "y": -0.2})


def heterogeneity_figure(ranking: pd.DataFrame, by: str, title: str = "") -> go.Figure:
    """Groups ranked by the spread of their single-cell features."""
    colour = "Metadata_MoA" if "Metadata_MoA" in ranking else None
    ranking = ranking.assign(**{by: ranking[by].astype(str)})
    return px.bar(ranking, x=by, y="spread", color=colour, title=title, category_orders={by: ranking[by].tolist()})


def attention_overlap_figure(matrix: pd.DataFrame, title: str = "") -> go.Figure:
    """Heads x channels mean IoU of Otsu-binarised attention and channels."""
    return px.imshow(
        matrix.to_numpy(),
        x=list(matrix.columns),
        y=[str(h) for h in matrix.index],
        zmin=0,
        zmax=1,
        color_continuous_scale="Viridis",
        text_auto=".2f",
        labels={"color": "IoU"},
        title=title,
    )


def token_region_figure(shares: pd.DataFrame, title: str = "") -> go.Figure:
    """Where the discriminative tokens of each group lie, beside where all its tokens lie."""
    long = shares.melt(id_vars="group", value_vars=[c for c in shares if c.startswith(("share_", "baseline_"))])
    long[["kind", "region"]] = long["variable"].str.split("_", n=1, expand=True)
    long["kind"] = long["kind"].map({"share": "discriminative tokens", "baseline": "all tokens"})
    return px.bar(long, x="group", y="value", color="region", facet_col="kind", barmode="stack", title=title, labels={"value": "share"})
