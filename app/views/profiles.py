"""Similarity heatmaps with their clustering and a zoom on chosen groups; Mantel and CCA against
another modality; pseudotime and heterogeneity."""

import plotly.express as px
import streamlit as st
from explorer.catalog import Missing, load, show
from explorer.table_downloads import table as show_table

env, model = st.session_state["env"], st.session_state["model"]
st.title(f"Profiles: {model}")

try:
    undefined = load(env, f"{model}_profile_summary").get("undefined", {})  # why an analysis was not made
except Missing:
    undefined = {}
try:
    tables, figures = load(env, f"{model}.similarity"), load(env, f"{model}.similarity_figures")
except Missing as missing:  # not made: not run yet, or undefined for these profiles
    tables = figures = None
    st.info("\n\n".join(f"{name}: {why}" for name, why in undefined.items() if name.startswith("similarity")) or str(missing))
if tables and figures:
    name = st.selectbox("Similarity matrix", sorted(tables), key="matrix")
    st.plotly_chart(figures[name], width="stretch")
    table = tables[name].set_index("group")
    annotation = table.pop("annotation") if "annotation" in table else None
    with st.expander("the matrix as a table"):
        show_table(tables[name], f"{model}_similarity_{name}", hide_index=True)
    zoom = st.multiselect("Zoom on groups", list(table.index), key="zoom")
    if annotation is not None:
        by_annotation = st.multiselect("... or on annotations", sorted(annotation.astype(str).unique()))
        zoom += [g for g in table.index if annotation[g] in by_annotation and g not in zoom]
    if len(zoom) >= 2:
        part = table.loc[zoom, zoom]
        st.plotly_chart(
            px.imshow(part.to_numpy(), x=zoom, y=zoom, zmin=-1, zmax=1, color_continuous_scale="RdBu_r", text_auto=".2f", title="zoom"),
            width="stretch",
        )

st.subheader("Agreement with another modality (Mantel, CCA)")
comparison = show(env, f"{model}.modality_comparison")
if comparison is not None:
    if comparison.empty:
        st.info(undefined.get("modality") or "no other modality configured (`profile.modality` and the `profile_modality` table)")
    else:
        show_table(comparison, f"{model}_modality_comparison", hide_index=True, width="stretch")

left, right = st.columns(2)
with left:
    show(env, f"{model}.pseudotime_figure", lambda f: st.plotly_chart(f, width="stretch"))
with right:
    show(env, f"{model}.heterogeneity_figure", lambda f: st.plotly_chart(f, width="stretch"))
