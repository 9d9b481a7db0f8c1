"""Two models' similarity matrices side by side: the groups both have, each model's cosine
similarities, their difference, and how far the two agree (Mantel: Pearson r of the
off-diagonal similarities, with a permutation p-value)."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st
from explorer.catalog import MODELS, Missing, load
from explorer.table_downloads import table

from cell_dino.profile.mantel import MantelResult, mantel

env, model = st.session_state["env"], st.session_state["model"]
st.title("Compare models")


def matrices(name: str) -> dict[str, pd.DataFrame]:
    """A model's similarity matrices (group x group, annotation dropped); empty when not made."""
    try:
        tables = load(env, f"{name}.similarity")
    except Missing as missing:
        st.info(str(missing))
        return {}
    return {key: frame.set_index("group").drop(columns="annotation", errors="ignore") for key, frame in tables.items()}


@st.cache_data(max_entries=32, show_spinner="Mantel test, 999 permutations")
def agreement_of(x: np.ndarray, y: np.ndarray) -> MantelResult:
    """Mantel r and p of two matrices, once per pair (a page's other widgets rerun it)."""
    return mantel(x, y, permutations=999)


left, right = st.columns(2)
first = left.selectbox("First model", MODELS, index=MODELS.index(model), key="compare_first")
second = right.selectbox("Second model", MODELS, index=(MODELS.index(model) + 1) % len(MODELS), key="compare_second")
a, b = matrices(first), matrices(second)
common = sorted(set(a) & set(b))
if not common:
    st.info(f"{first} and {second} share no similarity matrix: run `kedro run --pipeline profile` for both")
    st.stop()
name = st.selectbox("Similarity matrix", common, key="compare_matrix")
groups = [g for g in a[name].index if g in set(b[name].index)]
if len(groups) < 3:
    st.info(f"{name}: {len(groups)} group(s) in both models' matrices; 3 are needed to compare")
    st.stop()
x, y = a[name].loc[groups, groups], b[name].loc[groups, groups]
try:
    agreement = agreement_of(x.to_numpy(), y.to_numpy())
    st.metric("Agreement (Mantel r of the off-diagonal similarities)", f"{agreement.statistic:.3f}", help=f"p = {agreement.p_value:.3g}")
except ValueError as why:  # the Undefined of too little variation too
    st.info(f"no agreement computed: {why}")
heat = {"zmin": -1, "zmax": 1, "color_continuous_scale": "RdBu_r", "aspect": "auto"}
left, right = st.columns(2)
left.plotly_chart(px.imshow(x.to_numpy(), x=groups, y=groups, title=first, **heat), width="stretch", key="compare_first_matrix")
right.plotly_chart(px.imshow(y.to_numpy(), x=groups, y=groups, title=second, **heat), width="stretch", key="compare_second_matrix")
difference = y - x
st.plotly_chart(
    px.imshow(difference.to_numpy(), x=groups, y=groups, title=f"{second} minus {first}", **heat), width="stretch", key="compare_difference"
)
table(difference.style.format("{:.3f}"), f"{name}_{second}_minus_{first}")
