"""A model scored layer by layer (``embed.features.layers``): intermediate blocks' CLS tokens often
profile better than the last block's (Kraus et al. 2024, Phenom-2, arXiv 2411.02572). Each layer's
features are a consecutive block of equal width in the embedding (the embedding's record names the
layers, in order); each is integrated and scored alone, as the whole model is, under the headline
normalisation. In the ladder a layer is the model ``<model>@<layer>`` (``dino@block2``)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cell_dino.evaluate.headline import HEADLINE, normalisation_row, record
from cell_dino.evaluate.scorecard import score_normalisations
from cell_dino.integrate.integration import IntegrationSettings, integrate
from cell_dino.integrate.table import feature_columns


def layer_tables(embeddings: pd.DataFrame, layers: Sequence[str]) -> dict[str, pd.DataFrame]:
    """``{layer: its Metadata_* and feature columns}``: the features split into ``len(layers)``
    consecutive blocks of equal width, in order. Raises ValueError when they do not split evenly."""
    features = feature_columns(embeddings)
    width, rest = divmod(len(features), len(layers))
    if rest or not width:
        raise ValueError(f"{len(features)} features do not split into {len(layers)} layers {list(layers)} of equal width")
    metadata = [c for c in embeddings.columns if c not in set(features)]
    return {name: embeddings[metadata + features[i * width : (i + 1) * width]] for i, name in enumerate(layers)}


def score_layers(
    embeddings: pd.DataFrame, layers: Sequence[str], settings: IntegrationSettings, spec, nonfinite, normalisation: str
) -> dict[str, dict]:
    """``{layer: headline figures}`` of each layer of ``embeddings`` (:func:`layer_tables`), its items
    integrated as ``settings`` say (their normalisations: ``normalisation``, the headline's) and scored
    as the whole model's profiles are (NSC, NSCB, both mAPs, well k-NN; ``macro_f1`` null: the item
    classifier runs on the whole model); a figure that cannot be computed is null with its reason in
    ``undefined``."""
    scored = {}
    for name, table in layer_tables(embeddings, layers).items():
        profiles, integration = integrate(table, settings)
        metrics, _, _ = score_normalisations(profiles, spec, nonfinite)
        missing = integration["undefined"].get(normalisation, f"normalisation {normalisation} was not made")
        row = normalisation_row([record(r) for r in metrics.to_dict(orient="records")], normalisation, missing)
        figures = {k: row.get(k) for k in HEADLINE}
        scored[name] = figures | {"undefined": {**row["undefined"], "macro_f1": "scored on the whole model, not per layer"}}
    return scored
