"""Attention maps over the sampled crops per head and per channel, the heads x channels IoU
matrix, and the discriminative patch tokens."""

import numpy as np
import plotly.express as px
import streamlit as st
from explorer.catalog import show
from explorer.charts import heads_figure
from explorer.images import composite

from cell_dino.profile.attention_overlap import upsampled
from cell_dino.registry import model as model_spec

env, model = st.session_state["env"], st.session_state["model"]
st.title(f"Attention: {model}")
if not model_spec(model).learned:
    st.info(f"{model}: {model_spec(model).kind}; no attention maps or patch tokens sampled")
    st.stop()

sample = show(env, f"{model}.attention")
channels = sample.channels if sample is not None else []

if sample is not None:
    labels = [f"{int(r.Metadata_Index)}: {getattr(r, 'Metadata_MoA', '')}" for r in sample.items.itertuples()]
    choice = st.selectbox("Sampled item", range(len(labels)), format_func=labels.__getitem__, key="sampled")
    image, attention = sample.images[choice], sample.attention[choice]
    heads = upsampled(attention, tuple(image.shape[-2:]))
    cols = st.columns(len(channels) + 1)
    cols[0].image(composite(image, list(range(len(channels)))), caption="composite", width="stretch")
    for c, (col, name) in enumerate(zip(cols[1:], channels)):
        col.image(composite(image, [c]), caption=name, width="stretch")
    st.plotly_chart(heads_figure(heads, "last-block CLS attention per head", sample.heads), width="stretch")
    tokens = show(env, f"{model}.discriminative_tokens")
    if tokens is not None and not tokens.empty:
        mine = tokens[tokens["Metadata_Index"] == int(sample.items["Metadata_Index"].iloc[choice])]
        grid = np.zeros(attention.shape[-2:])
        grid[mine["token_row"].to_numpy(), mine["token_col"].to_numpy()] = 1
        st.caption(f"{len(mine)} of this item's {grid.size} patch tokens are discriminative")
        st.plotly_chart(
            px.imshow(grid, zmin=0, zmax=1, color_continuous_scale="Greens", title="discriminative tokens of this item"), width="stretch"
        )

left, right = st.columns(2)
with left:
    show(env, f"{model}.attention_overlap_figure", lambda f: st.plotly_chart(f, width="stretch"))
with right:
    show(env, f"{model}.token_figure", lambda f: st.plotly_chart(f, width="stretch"))
