"""Loss, teacher entropy and student-teacher KL per epoch, throughput; the Optuna sweep's history
and parameter importances."""

import plotly.express as px
import streamlit as st
from explorer.data import show
from explorer.tables import table

from cell_dino.registry import TRAINING_RUNS

env = st.session_state["env"]
st.title("Training and sweeps")

CURVES = ["loss", "teacher_entropy", "kl_teacher_student", "images_per_second", "lr"]
for run in TRAINING_RUNS:
    st.subheader(f"{run.name} training")
    metrics = show(env, f"{run.name}_training_metrics")
    if metrics is not None and not metrics.empty:
        colour = "channel" if "channel" in metrics else None
        cols = st.columns(3)
        for i, curve in enumerate(c for c in CURVES if c in metrics):
            figure = px.line(metrics, x="epoch", y=curve, color=colour, markers=True, title=curve)
            cols[i % 3].plotly_chart(figure, width="stretch", key=f"{run.name}-{curve}")  # runs of one schedule draw equal lr curves

st.subheader("Augmentation sweep (Optuna)")
left, right = st.columns(2)
with left:
    show(env, "sweep_history_figure", lambda f: st.plotly_chart(f, width="stretch"))
with right:
    show(env, "sweep_importance_figure", lambda f: st.plotly_chart(f, width="stretch"))
trials = show(env, "sweep_trials")
if trials is not None:
    table(trials, "sweep_trials", hide_index=True, width="stretch")
