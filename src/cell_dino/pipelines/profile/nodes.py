"""Nodes of the profile pipeline: thin wrappers over :mod:`cell_dino.analysis`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy.spatial.distance import pdist, squareform
from scipy.stats import spearmanr

from cell_dino.analysis.attention_overlap import attention_channel_iou
from cell_dino.analysis.cca import cca_matching
from cell_dino.analysis.figures import (
    attention_overlap_figure, heterogeneity_figure, pseudotime_figure, similarity_heatmap, token_region_figure,
)  # fmt: skip
from cell_dino.analysis.heterogeneity import group_spread, top_k_curve
from cell_dino.analysis.mantel import mantel
from cell_dino.analysis.patch_tokens import balanced_items, discriminative_tokens, patch_region_fractions, region_shares, token_table
from cell_dino.analysis.pseudotime import diffusion_map, pseudotime, root_cell
from cell_dino.analysis.similarity import cosine_similarity, group_profiles, keep_top_share, ordered
from cell_dino.features.artifacts import AttentionSample
from cell_dino.pipelines.profile.params import ModalitySpec, ProfileParams, SimilaritySpec
from cell_dino.profiling.finite import finite_profiles
from cell_dino.profiling.aggregate import aggregate
from cell_dino.profiling.reduce import standardised_pcs
from cell_dino.profiling.table import feature_matrix, label_of, metadata_columns, require_columns
from cell_dino.reporting import peak_rss_mb
from cell_dino.undefined import attempt, require

log = logging.getLogger(__name__)
Partitions = dict[str, Callable[[], pd.DataFrame]]


def skipped(reason: str) -> go.Figure:
    """An empty figure whose title says why the analysis did not run."""
    return go.Figure().update_layout(title=f"not computed: {reason}")


def _level(profiles: Partitions, level: str, normalisation: str) -> pd.DataFrame:
    key = "fov" if level == "fov" else f"{normalisation}/{level}"
    require(key in profiles, f"no {key!r} profiles (integrate made {sorted(profiles)}; see its report for why)")
    return profiles[key]()


def _similarity(profiles: Partitions, spec: SimilaritySpec, normalisation: str) -> tuple[pd.DataFrame, go.Figure]:
    """One ordered cosine-similarity matrix (a table, annotated if asked) and its heatmap."""
    groups = group_profiles(_level(profiles, spec.level, normalisation), spec.by)
    similarity = cosine_similarity(groups, spec.by)
    if spec.top_share < 1:
        similarity = keep_top_share(similarity, spec.top_share)
    annotation = None
    if spec.annotation is not None:
        require_columns(groups, [spec.annotation], f"similarity {spec.name!r} annotation (constant within each group)")
        annotation = pd.Series(groups[spec.annotation].to_numpy(), index=label_of(groups, spec.by))
    similarity = ordered(similarity, spec.order, annotation)
    table = similarity.rename_axis("group").reset_index()
    if annotation is not None:
        table.insert(1, "annotation", annotation.reindex(similarity.index).astype(str).to_numpy())
    return table, similarity_heatmap(similarity, f"{spec.name}: cosine similarity of {spec.level} profiles ({normalisation}, {spec.order} order)")


def similarity_matrices(profiles: Partitions, params: ProfileParams) -> tuple[dict[str, pd.DataFrame], dict[str, go.Figure], dict]:
    """Per ``profile.similarity`` entry: the ordered cosine-similarity matrix and its heatmap
    (a titled empty figure, and the reason, where the profiles it needs were not made)."""
    tables, figures, undefined = {}, {}, {}
    for spec in params.similarity:
        made = attempt(f"similarity {spec.name}", lambda spec=spec: _similarity(profiles, spec, params.normalisation), undefined)
        if made is None:
            figures[spec.name] = skipped(undefined[f"similarity {spec.name}"])
        else:
            tables[spec.name], figures[spec.name] = made
    return tables, figures, undefined


def _modality_groups(modality: pd.DataFrame, wells: pd.DataFrame, spec: ModalitySpec) -> pd.DataFrame:
    """The other modality per group of ``spec.group_by``: joined to our wells on its key columns."""
    missing = [c for c in spec.keys if c not in modality.columns]
    if missing:
        raise ValueError(f"profile.modality.keys: {missing} are not columns of the modality table ({list(modality.columns)[:12]})")
    table = modality.rename(columns=spec.keys)
    features = [c for c in table.columns if c not in spec.keys.values() and c not in spec.exclude and pd.api.types.is_numeric_dtype(table[c])]
    if not features:
        raise ValueError("profile.modality: the table has no numeric feature columns beyond the keys and profile.modality.exclude")
    keys = list(spec.keys.values())
    table = table[keys + features].groupby(keys, as_index=False).mean()
    labels = wells[list(dict.fromkeys(keys + spec.group_by))].drop_duplicates(keys)
    joined = labels.merge(table, on=keys, how="inner")
    if joined.empty:
        raise ValueError(f"profile.modality: no row of the modality table matches a well on {spec.keys}")
    return aggregate(joined.drop(columns=[k for k in keys if k not in spec.group_by]), spec.group_by, "median")


def compare_modality(profiles: Partitions, modality: pd.DataFrame, params: ProfileParams) -> tuple[pd.DataFrame, dict]:
    """Mantel test (image cosine distance vs the modality's distance on z-scored features) and CCA
    with held-out top-1 matching, over the groups both share. Empty without a modality; a test
    the shared groups cannot support is NaN, its reason in the second output."""
    undefined: dict[str, str] = {}
    if params.modality is None or modality.empty:
        undefined["modality"] = "no other modality (profile.modality and the profile_modality table)"
        log.info("Mantel and CCA skipped: %s", undefined["modality"])
        return pd.DataFrame(), undefined
    pair = attempt("modality", lambda: _shared_groups(profiles, modality, params), undefined)
    if pair is None:
        return pd.DataFrame(), undefined
    x, y = pair
    spec = params.modality
    test = attempt("mantel", lambda: mantel(squareform(pdist(x, "cosine")), squareform(pdist(y)), spec.mantel_permutations, seed=params.seed), undefined)
    cca = attempt("cca", lambda: cca_matching(x, y, spec.cca.n_components, spec.cca.n_pcs, spec.cca.n_splits, params.seed), undefined)
    nan = float("nan")
    row = {"modality": spec.name, "n_groups": len(x), "group_by": ",".join(spec.group_by),
           "mantel_r": test.statistic if test else nan, "mantel_p": test.p_value if test else nan,
           "mantel_permutations": test.permutations if test else 0, "cca_matching": cca.matching_accuracy if cca else nan,
           "cca_chance": cca.chance if cca else nan, "canonical_correlations": cca.correlations if cca else []}  # fmt: skip
    log.info("%s vs image profiles: %s", spec.name, row)
    return pd.DataFrame([row]), undefined


def _shared_groups(profiles: Partitions, modality: pd.DataFrame, params: ProfileParams) -> tuple[np.ndarray, np.ndarray]:
    """Image profiles and the modality's z-scored features of the groups both have, row for row."""
    spec = params.modality
    wells = _level(profiles, "well", params.normalisation)
    image = group_profiles(wells, spec.group_by, "median")
    other = _modality_groups(modality, wells, spec)
    shared = image[spec.group_by].merge(other[spec.group_by], on=spec.group_by)
    x = feature_matrix(shared.merge(image, on=spec.group_by).drop(columns="Metadata_Count"))
    y = feature_matrix(shared.merge(other, on=spec.group_by).drop(columns="Metadata_Count"))
    y = y[:, y.std(axis=0) > 0]
    require(y.shape[1] > 0, "the other modality has no feature that varies across the shared groups")
    return x, (y - y.mean(axis=0)) / y.std(axis=0)


def order_pseudotime(embeddings: pd.DataFrame, params: ProfileParams) -> tuple[pd.DataFrame, go.Figure, dict]:
    """Diffusion pseudotime of the root group's and the trajectory groups' items, from the root
    (empty, with the reason, when there are too few items)."""
    undefined: dict[str, str] = {}
    items, _ = finite_profiles(embeddings, params.nonfinite, "embeddings")
    made = attempt("pseudotime", lambda: _pseudotime(items, params), undefined)
    return (pd.DataFrame(), skipped(undefined["pseudotime"]), undefined) if made is None else (*made, undefined)


def _pseudotime(embeddings: pd.DataFrame, params: ProfileParams) -> tuple[pd.DataFrame, go.Figure]:
    spec = params.pseudotime
    require_columns(embeddings, [spec.column], "profile.pseudotime.column")
    values = embeddings[spec.column].astype(str)
    keep = values.isin([spec.root, *spec.trajectory]) if spec.trajectory else values.notna()
    items = embeddings.loc[keep].reset_index(drop=True)
    if len(items) > spec.max_cells:
        rng = np.random.default_rng(params.seed)
        items = items.iloc[np.sort(rng.choice(len(items), spec.max_cells, replace=False))].reset_index(drop=True)
    in_root = (items[spec.column].astype(str) == spec.root).to_numpy()
    needed = max(spec.n_neighbors, spec.n_components + 1) + 1
    require(len(items) >= needed and in_root.any(),
            f"pseudotime needs {needed} items with some in {spec.column} = {spec.root!r}; have {len(items)}, {int(in_root.sum())} in the root")
    diffusion = diffusion_map(standardised_pcs(feature_matrix(items), spec.n_pcs, params.seed), spec.n_neighbors, spec.n_components)
    root = root_cell(diffusion, in_root)
    components = diffusion.components()
    time = pseudotime(diffusion, root)
    reachable = np.isfinite(time)
    if not reachable.all():
        log.warning("pseudotime: %d of %d items lie outside the root's part of the kNN graph (no pseudotime)", (~reachable).sum(), len(time))
    table = items[metadata_columns(items)].assign(pseudotime=np.where(reachable, time, np.nan), is_root=np.arange(len(items)) == root)
    table = pd.concat([table, pd.DataFrame(components, columns=[f"dc_{i + 1}" for i in range(components.shape[1])])], axis=1)
    title = f"Diffusion pseudotime from {spec.root} ({reachable.sum()} of {len(table)} items reachable)"
    return table, pseudotime_figure(table[reachable], spec.column, title)


def rank_heterogeneity(embeddings: pd.DataFrame, params: ProfileParams) -> tuple[pd.DataFrame, pd.DataFrame, go.Figure, dict]:
    """Groups ranked by the spread of their items' features; the top-k curve of annotated groups
    (empty, with the reason, when no group has enough items)."""
    undefined: dict[str, str] = {}
    items, _ = finite_profiles(embeddings, params.nonfinite, "embeddings")
    made = attempt("heterogeneity", lambda: _heterogeneity(items, params), undefined)
    return (pd.DataFrame(), pd.DataFrame(), skipped(undefined["heterogeneity"]), undefined) if made is None else (*made, undefined)


def _heterogeneity(embeddings: pd.DataFrame, params: ProfileParams) -> tuple[pd.DataFrame, pd.DataFrame, go.Figure]:
    spec = params.heterogeneity
    ranking = group_spread(embeddings, spec.by, spec.n_components, spec.min_items, params.seed)
    require(not ranking.empty, f"no {' / '.join(spec.by)} group has {spec.min_items} items")
    constant = group_profiles(embeddings.drop(columns=["Metadata_Index"], errors="ignore"), spec.by)
    labels = constant[[c for c in metadata_columns(constant) if c in ("Metadata_MoA", "Metadata_Compound", "Metadata_Treatment", *spec.by)]]
    ranking = ranking.merge(labels, on=spec.by, how="left")
    curve = top_k_curve(ranking, spec.by, set(spec.variable)) if spec.variable else pd.DataFrame()
    named = ranking.assign(group=label_of(ranking, spec.by))
    return ranking, curve, heterogeneity_figure(named, "group", f"Heterogeneity: spread of single-item features per {' / '.join(b.removeprefix('Metadata_') for b in spec.by)}")


def overlap_attention(attention: AttentionSample, crop_store: Any, params: ProfileParams) -> tuple[pd.DataFrame, go.Figure]:
    """Heads x channels mean IoU of Otsu-binarised attention and input channels."""
    channels = list(crop_store.channels.names)
    matrix = attention_channel_iou(attention.attention, attention.images, channels)
    return matrix.reset_index(), attention_overlap_figure(matrix, f"Attention-channel overlap (IoU, {len(attention.images)} items)")


def find_discriminative_tokens(attention: AttentionSample, params: ProfileParams) -> tuple[pd.DataFrame, pd.DataFrame, go.Figure, dict]:
    """Patch tokens that tell the reference group from the other apart (equal numbers of items
    from each, seeded), and how much of them lies in the nucleus and the cytoplasm (empty, with
    the reason, when the sample has too few items of either group)."""
    undefined: dict[str, str] = {}
    made = attempt("discriminative_tokens", lambda: _tokens(attention, params), undefined)
    return (pd.DataFrame(), pd.DataFrame(), skipped(undefined["discriminative_tokens"]), undefined) if made is None else (*made, undefined)


def _tokens(attention: AttentionSample, params: ProfileParams) -> tuple[pd.DataFrame, pd.DataFrame, go.Figure]:
    spec = params.tokens
    require_columns(attention.items, [spec.column], "profile.tokens.column")
    values = attention.items[spec.column].astype(str).to_numpy()
    other = spec.other or f"not {spec.reference}"
    in_other = values == spec.other if spec.other is not None else values != spec.reference
    groups = np.where(values == spec.reference, spec.reference, np.where(in_other, other, ""))
    counts = {g: int((groups == g).sum()) for g in (spec.reference, other)}
    require(min(counts.values()) >= 2, f"the attention sample has {counts} items (2 of each needed)")
    keep = balanced_items(groups[groups != ""], params.seed)
    keep = np.flatnonzero(groups != "")[keep]
    tokens, groups = attention.tokens[keep], groups[keep]
    selected = discriminative_tokens(tokens, groups, spec.k, spec.n_components, params.seed)
    fractions = patch_region_fractions(attention.masks[keep], tokens.shape[1:3])
    items = attention.items.iloc[keep].reset_index(drop=True)
    shares = region_shares(selected, fractions, groups)
    title = f"Discriminative patch tokens, {spec.reference} vs {other} ({len(keep) // 2} items each)"
    return token_table(selected, fractions, groups, items), shares, token_region_figure(shares, title)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-safe dicts (NaN -> None)."""
    return frame.round(4).astype(object).where(frame.notna(), None).to_dict(orient="records")


def summarise_profile(modality: pd.DataFrame, cells: pd.DataFrame, ranking: pd.DataFrame, overlap: pd.DataFrame,
                      shares: pd.DataFrame, params: ProfileParams, *undefined: dict) -> dict:  # fmt: skip
    """One model's profiling figures for ``08_reporting/profile.json``, with the reason of every
    analysis that could not run under ``undefined``."""
    summary: dict[str, Any] = {"modality": _records(modality.drop(columns="canonical_correlations", errors="ignore")),
                               "undefined": {k: v for record in undefined for k, v in record.items()}}  # fmt: skip
    order = params.pseudotime.order_column
    if not cells.empty:
        reached = cells[cells["pseudotime"].notna()]
        summary["pseudotime"] = {"n_items": len(cells), "n_unreachable": int(len(cells) - len(reached)),
                                 "median_by_group": reached.groupby(params.pseudotime.column)["pseudotime"].median().round(4).to_dict()}  # fmt: skip
        if order in reached.columns and reached[order].nunique() > 1:
            summary["pseudotime"][f"spearman_with_{order}"] = float(spearmanr(reached["pseudotime"], reached[order]).statistic)
    if not ranking.empty:
        summary["heterogeneity"] = {"n_groups": len(ranking), "most_variable": label_of(ranking.head(5), params.heterogeneity.by).tolist()}
    if not overlap.empty:
        matrix = overlap.set_index("head")
        summary["attention_overlap"] = {"mean_iou_by_channel": matrix.mean().round(4).to_dict(), "best_channel_by_head": matrix.idxmax(axis=1).to_dict()}
    if not shares.empty:
        summary["discriminative_tokens"] = _records(shares)
    return summary


def report_profile(*summaries: dict, models: tuple[str, ...]) -> dict:
    """``08_reporting/profile.json``: every model's profiling figures side by side."""
    return {"n_inputs": len(models), "n_outputs": len(models), "peak_rss_mb": peak_rss_mb(), "models": dict(zip(models, summaries, strict=True))}
