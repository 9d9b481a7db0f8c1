"""Per epoch: loss, the health monitors (teacher entropy against log(out_dim), student-teacher KL,
effective rank and spread of a probe batch's features) with collapsed epochs flagged, learning
rate and throughput; the Optuna sweep's history and parameter importances."""

import streamlit as st
from explorer.catalog import show
from explorer.charts import training_curve
from explorer.table_downloads import table

from cell_dino.registry import TRAINING_RUNS

env = st.session_state["env"]
st.title("Training and sweeps")

CURVES = ["teacher_entropy", "kl_teacher_student", "effective_rank", "feature_spread", "loss", "lr", "images_per_second"]
for run in TRAINING_RUNS:
    st.subheader(f"{run.name} training")
    metrics = show(env, run.metrics)
    if metrics is None or metrics.empty:
        continue
    if "collapse" not in metrics:
        st.info(f"{run.name} was trained before the health monitors: retrain it to see its effective rank and collapse flags")
    else:
        for channel, rows in metrics.groupby("channel") if "channel" in metrics else [(None, metrics)]:
            model = run.name if channel is None else f"{run.name} ({channel} model)"
            flagged, last = rows[rows["collapse"].notna()], rows.sort_values("epoch").iloc[-1]
            epochs = ", ".join(str(e) for e in sorted(set(flagged["epoch"])))
            if isinstance(last["collapse"], str):
                st.error(f"{model} collapsed at epoch(s) {epochs}: {last['collapse']}. Figures of a collapsed model are not a result.")
            elif not flagged.empty:
                st.warning(f"{model} was flagged at epoch(s) {epochs} ({flagged['collapse'].iloc[-1]}), its last epoch is not")
    colour = "channel" if "channel" in metrics else None
    cols = st.columns(3)
    for i, curve in enumerate(c for c in CURVES if c in metrics):
        cols[i % 3].plotly_chart(training_curve(metrics, curve, colour), width="stretch", key=f"{run.name}-{curve}")

st.subheader("Augmentation sweep (Optuna)")
left, right = st.columns(2)
with left:
    show(env, "sweep_history_figure", lambda f: st.plotly_chart(f, width="stretch"))
with right:
    show(env, "sweep_importance_figure", lambda f: st.plotly_chart(f, width="stretch"))
trials = show(env, "sweep_trials")
if trials is not None:
    table(trials, "sweep_trials", hide_index=True, width="stretch")
