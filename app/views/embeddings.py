"""UMAP of the items coloured by any metadata column; a selected item's crop (channels toggled),
its attention maps per head, and its nearest neighbours as image tiles; a gallery of the items a
box or lasso selects, with their metadata."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st
from explorer.catalog import Missing, load, show
from explorer.charts import heads_figure
from explorer.images import composite, thumbnail
from explorer.table_downloads import table

from cell_dino.evaluate.neighbours import unit_rows
from cell_dino.integrate.table import feature_columns
from cell_dino.profile.attention_overlap import upsampled
from cell_dino.registry import model as model_spec

GALLERY_COLUMNS, GALLERY_MAX = 6, 36  # thumbnails per row; at most this many drawn

env, model = st.session_state["env"], st.session_state["model"]
learned = model_spec(model).learned  # CellProfiler features have no attention maps
st.title(f"Embeddings: {model}")

umap = show(env, f"{model}.umap")
embeddings = show(env, f"{model}.embeddings")
if umap is None or embeddings is None:
    st.stop()
if embeddings.empty or umap.empty:  # a baseline skipped (no weights file), or too few items for a UMAP
    skipped = embeddings.attrs.get("embedding", {}).get("skipped")
    st.info(skipped or f"{model}: no UMAP of {len(embeddings)} items (the integrate report's undefined gives why)")
    st.stop()

unit = embeddings.attrs.get("embedding", {}).get("unit", "cell")
store_name = "crop_store" if unit == "cell" else "fov_store"
try:
    store = load(env, store_name)
except Missing as missing:
    store = None
    st.info(str(missing))

columns = [c for c in umap.columns if c.startswith("Metadata_") and c != "Metadata_Index"]
left, right = st.columns(2)
colour = left.selectbox("Colour by", columns, key="colour", index=columns.index("Metadata_MoA") if "Metadata_MoA" in columns else 0)
facet = right.selectbox("Filter on", columns, key="facet", index=columns.index(colour))
values = sorted(umap[facet].astype(str).unique())
kept = st.multiselect(f"{facet} values shown", values, default=values)
shown = umap[umap[facet].astype(str).isin(kept)].reset_index(drop=True)

figure = px.scatter(
    shown,
    x="umap_0",
    y="umap_1",
    color=shown[colour].astype(str),
    custom_data=["Metadata_Index"],
    hover_data=[c for c in ("Metadata_Compound", "Metadata_Plate", "Metadata_Well", "Metadata_Index") if c in shown],
    render_mode="webgl",
    opacity=0.7,
    labels={"color": colour.removeprefix("Metadata_")},
)
figure.update_traces(marker={"size": 5})
event = st.plotly_chart(figure, on_select="rerun", selection_mode=("points", "box", "lasso"), key="umap", width="stretch")

points = event.selection.points if event and event.selection else []
indices = shown["Metadata_Index"].astype(int).tolist()
chosen = [int(p["customdata"][0]) for p in points]
if chosen != st.session_state.get("selection"):  # a new click, box or lasso (the gallery below stays editable)
    st.session_state["selection"] = chosen
    if len(chosen) == 1:
        st.session_state["item"] = st.session_state["item_choice"] = chosen[0]  # the keyed selectbox follows its state, not its index
    elif chosen:
        st.session_state["gallery"] = chosen
if not indices:
    st.stop()
try:  # start on an item whose attention maps were kept
    sampled = set(load(env, f"{model}.attention").items["Metadata_Index"].astype(int)) if learned else set()
except Missing:
    sampled = set()
default = st.session_state.get("item", next((i for i in indices if i in sampled), indices[0]))
item = st.selectbox("Item (or click a point)", indices, key="item_choice", index=indices.index(default) if default in indices else 0)

row = embeddings.loc[embeddings["Metadata_Index"] == item].iloc[0]
st.caption(
    " · ".join(
        f"{c.removeprefix('Metadata_')}: {row[c]}"
        for c in ("Metadata_MoA", "Metadata_Compound", "Metadata_Plate", "Metadata_Well")
        if c in row
    )
)

if store is not None:
    channels = list(store.channels.names)
    on = st.multiselect("Channels", channels, default=channels, key="channels")
    image = thumbnail(np.asarray(store.crops[item] if unit == "cell" else store.images[item]))
    picture, maps = st.columns(2)
    picture.image(composite(image, [channels.index(c) for c in on]), caption="composite", width="stretch")

    if not learned:
        maps.info(f"{model}: {model_spec(model).kind}; no attention maps sampled")
    else:
        try:
            sample = load(env, f"{model}.attention")
        except Missing as missing:
            maps.info(str(missing))
        else:
            where = np.flatnonzero(sample.items["Metadata_Index"].to_numpy() == item)
            if len(where):
                attention = sample.attention[where[0]]
                heads = upsampled(attention, tuple(image.shape[-2:]))
                maps.plotly_chart(heads_figure(heads, "last-block CLS attention per head", sample.heads), width="stretch")
            else:
                sampled = sample.items["Metadata_Index"].astype(int).tolist()
                maps.info(
                    f"attention maps are kept for {len(sampled)} sampled items (e.g. {sampled[:5]}); pick one of them to see its heads"
                )

    st.subheader("Nearest neighbours (cosine)")
    k = st.slider("k", 3, 15, 6)
    features = embeddings[feature_columns(embeddings)].to_numpy(dtype=np.float32)
    if not learned:  # measured features have their own units: standardised first (NaN: the mean)
        features = np.nan_to_num((features - np.nanmean(features, axis=0)) / (np.nanstd(features, axis=0) + 1e-12))
    normed = unit_rows(features)
    position = int(np.flatnonzero(embeddings["Metadata_Index"].to_numpy() == item)[0])
    similarity = normed @ normed[position]
    order = [i for i in np.argsort(-similarity) if i != position][:k]
    tiles = st.columns(len(order))
    for tile, i in zip(tiles, order):
        neighbour = embeddings.iloc[i]
        index = int(neighbour["Metadata_Index"])
        pixels = thumbnail(np.asarray(store.crops[index] if unit == "cell" else store.images[index]))
        label = neighbour.get("Metadata_MoA", neighbour.get("Metadata_Compound", ""))
        tile.image(composite(pixels, [channels.index(c) for c in on]), caption=f"{index}: {label} ({similarity[i]:.3f})", width="stretch")
    table(pd.DataFrame(embeddings.iloc[order].filter(like="Metadata_")), f"{model}_neighbours_of_{item}", hide_index=True)

st.subheader("Gallery of the selected items", help="draw a box or a lasso on the UMAP (the toolbar's select tools), or pick items here")
gallery = [i for i in st.multiselect("Items in the gallery", indices, key="gallery") if i in indices]
if gallery:
    if store is not None:
        tiles = st.columns(GALLERY_COLUMNS)
        for n, index in enumerate(gallery[:GALLERY_MAX]):
            pixels = thumbnail(np.asarray(store.crops[index] if unit == "cell" else store.images[index]))
            label = embeddings.loc[embeddings["Metadata_Index"] == index].iloc[0].get("Metadata_MoA", "")
            tiles[n % GALLERY_COLUMNS].image(
                composite(pixels, [channels.index(c) for c in on]), caption=f"{index}: {label}", width="stretch"
            )
        if len(gallery) > GALLERY_MAX:
            st.caption(f"the first {GALLERY_MAX} of {len(gallery)} selected items; the table lists them all")
    table(embeddings.loc[embeddings["Metadata_Index"].isin(gallery)].filter(like="Metadata_"), f"{model}_selected_items", hide_index=True)
