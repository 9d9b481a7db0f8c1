"""Which pipelines have run, when and with which parameters; headline metrics; speed and memory."""

from datetime import datetime

import pandas as pd
import streamlit as st
from explorer.catalog import MODELS, PIPELINES, Missing, NeedsRuntimeParameters, load, modified, output_path, parameters, show
from explorer.ladder_view import show_ladder
from explorer.table_downloads import table

from cell_dino.core.secrets import redact
from cell_dino.registry import TRAINING_RUNS, parameter_blocks

env = st.session_state["env"]
st.title("Overview")

REPORTS = [
    ("ingest", "ingest_report"),
    ("segment", "segment_report"),
    *((f"{r.pipeline} ({r.name})", r.report) for r in TRAINING_RUNS),
    *((f"embed ({m})", f"{m}.embed_report") for m in MODELS),
    *((f"integrate ({m})", f"{m}.integrate_report") for m in MODELS),
    ("evaluate", "evaluate_report"),
    ("profile", "profile_report"),
    ("sweep", "sweep_report"),
]

rows = []
for pipeline, name in REPORTS:
    try:
        report = load(env, name)
    except Missing:
        rows.append({"pipeline": pipeline, "ran": "not yet"})
        continue
    seconds = report.get("seconds") or report.get("seconds_last_run")
    rows.append(
        {
            "pipeline": pipeline,
            "ran": datetime.fromtimestamp(modified(output_path(env, name))).strftime("%Y-%m-%d %H:%M"),
            "inputs": report.get("n_inputs"),
            "outputs": report.get("n_outputs"),
            "seconds": round(seconds, 1) if seconds else None,
            "items/s": round(report.get("items_per_second") or report.get("fovs_per_second") or report.get("images_per_second") or 0, 1)
            or None,
            "peak RSS (MB)": round(report["peak_rss_mb"]) if report.get("peak_rss_mb") else None,
        }
    )
st.subheader("Runs")
table(pd.DataFrame(rows), "runs", hide_index=True, width="stretch", height=36 * (len(rows) + 1) + 3)

st.subheader(
    "The model ladder (headline normalisation: TVN, the WS-DINO protocol)",
    help="Baselines first: CellProfiler features, ImageNet DINO per channel (when given its weights) and random-init networks. Mantel r: treatment similarities against the other modality.",
)


def headline(report: dict) -> None:
    show_ladder(env, report)
    reasons = [
        {"model": model, "metric": metric, "undefined because": why}
        for model, summary in report["models"].items()
        for metric, why in summary.get("undefined", {}).items()
    ]
    if reasons:
        table(pd.DataFrame(reasons), "undefined_metrics", hide_index=True, width="stretch")


show(env, "evaluate_report", headline)

st.subheader("Parameters of each pipeline's last run")
try:
    configured = parameters(env)
except NeedsRuntimeParameters as needs:
    st.info(str(needs))
    configured = {}
for pipeline in PIPELINES:
    with st.expander(pipeline):
        try:
            record = redact(load(env, f"{pipeline}_run"))
        except Missing:
            st.caption("no run recorded yet: the environment's current parameters")
            st.json({block: configured.get(block) for block in parameter_blocks(pipeline)}, expanded=False)
            continue
        overrides = f", runtime parameters {record['runtime_params']}" if record["runtime_params"] else ""
        st.caption(f"finished {record['finished']} (env {record['env']}{overrides})")
        st.json(record["parameters"], expanded=False)
