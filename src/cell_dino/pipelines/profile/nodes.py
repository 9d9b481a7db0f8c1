"""Nodes of the profile pipeline: glue over :mod:`cell_dino.profile`. An analysis the data cannot
support gives empty tables, a figure whose title says why, and its reason in the summary."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from cell_dino.core.reporting import run_report
from cell_dino.core.undefined import attempt, require
from cell_dino.embed.artifacts import AttentionSample
from cell_dino.integrate.finite import finite_profiles
from cell_dino.integrate.table import label_of, partition
from cell_dino.pipelines.profile.params import ProfileParams
from cell_dino.profile import profile_figures
from cell_dino.profile.attention_overlap import attention_channel_iou
from cell_dino.profile.heterogeneity import annotated_variable, ranked_groups
from cell_dino.profile.modality import compare_modalities, modality_groups, shared_groups
from cell_dino.profile.patch_tokens import reference_vs_rest
from cell_dino.profile.profile_similarity import similarity_table
from cell_dino.profile.profile_summary import profile_summary
from cell_dino.profile.pseudotime import pseudotime_table

Partitions = dict[str, Callable[[], pd.DataFrame]]


def _level(profiles: Partitions, level: str, normalisation: str) -> pd.DataFrame:
    key = "fov" if level == "fov" else f"{normalisation}/{level}"
    require(key in profiles, f"no {key!r} profiles (integrate made {sorted(profiles)}; see its report for why)")
    return partition(profiles, key)


def similarity_matrices(profiles: Partitions, params: ProfileParams) -> tuple[dict[str, pd.DataFrame], dict[str, go.Figure], dict]:
    """Per ``profile.similarity`` entry: the ordered cosine-similarity table and its heatmap."""
    tables, plots, undefined = {}, {}, {}
    for s in params.similarity:
        made = attempt(
            f"similarity {s.name}",
            lambda s=s: similarity_table(_level(profiles, s.level, params.normalisation), s.by, s.order, s.annotation, s.top_share),
            undefined,
        )
        title = f"{s.name}: cosine similarity of {s.level} profiles ({params.normalisation}, {s.order} order)"
        plots[s.name] = profile_figures.skipped(undefined[f"similarity {s.name}"]) if made is None else profile_figures.similarity_heatmap(made[1], title)
        if made is not None:
            tables[s.name] = made[0]
    return tables, plots, undefined


def compare_modality(profiles: Partitions, modality: pd.DataFrame, params: ProfileParams) -> tuple[pd.DataFrame, dict]:
    """Mantel test and CCA of the image profiles against another modality over the groups both
    share; empty without a modality, NaN (with the reason) where the groups cannot support a test."""
    m, undefined = params.modality, {}
    if m is None or modality.empty:
        return pd.DataFrame(), {"modality": "no other modality (profile.modality and the profile_modality table)"}
    wells = attempt("modality", lambda: _level(profiles, "well", params.normalisation), undefined)
    pair = (
        None
        if wells is None
        else attempt(
            "modality", lambda: shared_groups(wells, modality_groups(modality, wells, m.keys, m.exclude, m.group_by), m.group_by), undefined
        )
    )
    if pair is None:
        return pd.DataFrame(), undefined
    row, why = compare_modalities(*pair, m.mantel_permutations, m.cca.n_components, m.cca.n_pcs, m.cca.n_splits, params.seed)
    return pd.DataFrame([{"modality": m.name, "group_by": ",".join(m.group_by), **row}]), why


def finite_items(embeddings: pd.DataFrame, params: ProfileParams) -> tuple[pd.DataFrame, dict]:
    """The items with finite features, and what was dropped (see :mod:`cell_dino.integrate.finite`)."""
    return finite_profiles(embeddings, params.nonfinite, "embeddings")


def order_pseudotime(items: pd.DataFrame, params: ProfileParams) -> tuple[pd.DataFrame, go.Figure, dict]:
    """Diffusion pseudotime of the root group's and the trajectory groups' items, from the root."""
    p, undefined = params.pseudotime, {}
    if p is None:
        undefined["pseudotime"] = "no trajectory configured (profile.pseudotime is null)"
        return pd.DataFrame(), profile_figures.skipped(undefined["pseudotime"]), undefined
    cells = attempt(
        "pseudotime",
        lambda: pseudotime_table(items, p.column, p.root, p.trajectory, p.n_pcs, p.n_neighbors, p.n_components, p.max_cells, params.seed),
        undefined,
    )
    if cells is None:
        return pd.DataFrame(), profile_figures.skipped(undefined["pseudotime"]), undefined
    reached = cells[cells["pseudotime"].notna()]
    return (
        cells,
        profile_figures.pseudotime_figure(
            reached, p.column, f"Diffusion pseudotime from {p.root} ({len(reached)} of {len(cells)} items reachable)"
        ),
        undefined,
    )


def rank_heterogeneity(items: pd.DataFrame, params: ProfileParams) -> tuple[pd.DataFrame, pd.DataFrame, go.Figure, dict]:
    """Groups ranked by the spread of their items' features; the top-k curve of the groups annotated
    as variable (``heterogeneity.variable`` and those its ``annotation`` table marks)."""
    h, undefined = params.heterogeneity, {}
    a = h.annotation
    variable = h.variable + ([] if a is None else annotated_variable(a.table, a.key, a.columns))
    made = attempt("heterogeneity", lambda: ranked_groups(items, h.by, h.n_components, h.min_items, variable, params.seed), undefined)
    if made is None:
        return pd.DataFrame(), pd.DataFrame(), profile_figures.skipped(undefined["heterogeneity"]), undefined
    title = f"Heterogeneity: spread of single-item features per {' / '.join(b.removeprefix('Metadata_') for b in h.by)}"
    return made[0], made[1], profile_figures.heterogeneity_figure(made[0].assign(group=label_of(made[0], h.by)), "group", title), undefined


def overlap_attention(attention: AttentionSample) -> tuple[pd.DataFrame, go.Figure]:
    """Heads x channels mean IoU of Otsu-binarised attention and input channels."""
    matrix = attention_channel_iou(attention.attention, attention.images, attention.channels, attention.heads)
    return matrix.reset_index(), profile_figures.attention_overlap_figure(matrix, f"Attention-channel overlap (IoU, {len(attention.images)} items)")


def find_discriminative_tokens(attention: AttentionSample, params: ProfileParams) -> tuple[pd.DataFrame, pd.DataFrame, go.Figure, dict]:
    """Patch tokens that tell the reference group from the other apart, and where they lie."""
    t, undefined = params.tokens, {}
    made = attempt(
        "discriminative_tokens",
        lambda: reference_vs_rest(
            attention.items,
            attention.tokens,
            attention.masks,
            t.column,
            t.reference,
            t.other,
            t.k,
            t.n_components,
            t.max_tokens,
            params.seed,
        ),
        undefined,
    )
    if made is None:
        return pd.DataFrame(), pd.DataFrame(), profile_figures.skipped(undefined["discriminative_tokens"]), undefined
    title = f"Discriminative patch tokens, {t.reference} vs {t.other or 'not ' + t.reference} ({made[2]} items each)"
    return made[0], made[1], profile_figures.token_region_figure(made[1], title), undefined


def gather_notes(nonfinite: dict, *undefined: dict) -> dict:
    """The items dropped for non-finite features and the reason of every analysis that could not run."""
    return {"nonfinite": nonfinite, "undefined": {k: v for record in undefined for k, v in record.items()}}


def summarise_profile(
    modality: pd.DataFrame,
    cells: pd.DataFrame,
    ranking: pd.DataFrame,
    overlap: pd.DataFrame,
    shares: pd.DataFrame,
    params: ProfileParams,
    notes: dict,
) -> dict:
    """One model's profiling figures (see :func:`cell_dino.profile.profile_summary.profile_summary`) and the notes."""
    p, h = params.pseudotime, params.heterogeneity
    column, order = (None, None) if p is None else (p.column, p.order_column)
    return profile_summary(modality, cells, ranking, overlap, shares, column, order, h.by) | notes


def report_profile(*summaries: dict, models: tuple[str, ...]) -> dict:
    """``08_reporting/profile.json``: every model's profiling figures side by side."""
    return run_report(len(models), len(models), models=dict(zip(models, summaries, strict=True)))
