"""NSC / NSCB / mAP per normalisation, per-MoA breakdown, confusion matrix, MI factor bars, and
every model and normalisation side by side."""

import pandas as pd
import plotly.express as px
import streamlit as st
from explorer.catalog import show
from explorer.ladder_view import show_ladder
from explorer.table_downloads import table

env, model = st.session_state["env"], st.session_state["model"]
st.title(f"Evaluation: {model}")

report = show(env, "evaluate_report")
if report is not None:
    st.subheader("The model ladder (headline normalisation)")
    show_ladder(env, report)
    st.subheader("All models, all normalisations")
    rows = [{"model": m, **r} for m, s in report["models"].items() for r in s["by_normalisation"]]
    scores = pd.DataFrame(rows)
    metric = st.selectbox("Metric", [c for c in ("nsc", "nscb", "map_activity", "map_consistency", "knn_well") if c in scores])
    st.plotly_chart(px.bar(scores, x="normalisation", y=metric, color="model", barmode="group"), width="stretch")

metrics = show(env, f"{model}.metrics")
if metrics is not None:
    st.subheader("Per normalisation")
    table(metrics.set_index("normalisation").style.format(precision=3), f"{model}_metrics", width="stretch")

matches = show(env, f"{model}.matches")
if matches is not None and not matches.empty:
    st.subheader("Per MoA (NSC / NSCB: share of its treatments whose nearest neighbour has the same MoA)")
    methods = sorted(matches["normalisation"].unique())
    method = st.selectbox("Normalisation", methods, index=methods.index("tvn") if "tvn" in methods else 0)
    chosen = matches[matches["normalisation"] == method]
    nscb = chosen["nscb_correct"].astype(float).where(chosen["nscb_scored"]) if "nscb_scored" in chosen else float("nan")
    scored = chosen.assign(nsc=chosen["nsc_correct"].astype(float), nscb=nscb)
    table(
        scored.groupby("Metadata_MoA")[["nsc", "nscb"]].mean().style.format("{:.2f}", na_rep="-"),
        f"{model}_{method}_per_moa",
        width="stretch",
    )
    with st.expander("every treatment's neighbours"):
        table(chosen, f"{model}_{method}_matches", hide_index=True)

show(env, f"{model}.confusion_figure", lambda f: st.plotly_chart(f, width="stretch"))
show(env, "factor_figure", lambda f: st.plotly_chart(f, width="stretch"))
