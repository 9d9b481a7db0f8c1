"""cell-dino result explorer: ``streamlit run app/main.py`` (or ``make app``)."""

import streamlit as st
from explorer.catalog import MODELS, environments, unknown_environment

st.set_page_config(page_title="cell-dino explorer", layout="wide")
if (warning := unknown_environment()) is not None:
    st.warning(warning)

with st.sidebar:
    st.selectbox("Environment", environments(), key="env", help="conf/<env>: `local` is the demo's (data/), `test` the CI run's")
    st.selectbox("Model", MODELS, key="model", help="random-init twins are the baselines")

pages = [
    st.Page("views/overview.py", title="Overview", default=True),
    st.Page("views/embeddings.py", title="Embeddings"),
    st.Page("views/evaluation.py", title="Evaluation"),
    st.Page("views/profiles.py", title="Profiles"),
    st.Page("views/compare.py", title="Compare models"),
    st.Page("views/attention.py", title="Attention"),
    st.Page("views/training.py", title="Training and sweeps"),
]
st.navigation(pages).run()
