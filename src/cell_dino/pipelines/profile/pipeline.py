"""The profile pipeline: per model namespace, similarity matrices, agreement with another
modality, pseudotime, heterogeneity, attention-channel overlap and discriminative patch tokens;
then one report with every model side by side. CellProfiler features have no attention: their
namespace skips the attention and token analyses."""

import pandas as pd
from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines import bound
from cell_dino.pipelines.profile.nodes import (
    compare_modality,
    find_discriminative_tokens,
    finite_items,
    gather_notes,
    order_pseudotime,
    overlap_attention,
    rank_heterogeneity,
    report_profile,
    similarity_matrices,
    summarise_profile,
)
from cell_dino.registry import MODEL_NAMES, MODELS, ModelSpec

PARAMS = "params:profile"
UNDEFINED = ["similarity_undefined", "modality_undefined", "pseudotime_undefined", "heterogeneity_undefined"]  # of every model


def model_pipeline(model: ModelSpec) -> Pipeline:
    nodes = [
        Node(
            similarity_matrices,
            ["profiles", PARAMS],
            ["similarity", "similarity_figures", "similarity_undefined"],
            name="similarity_matrices",
        ),
        Node(
            compare_modality,
            ["profiles", "profile_modality", PARAMS],
            ["modality_comparison", "modality_undefined"],
            name="compare_modality",
        ),
        Node(finite_items, ["embeddings", PARAMS], ["finite_embeddings", "nonfinite_embeddings"], name="finite_items"),
        Node(
            order_pseudotime,
            ["finite_embeddings", PARAMS],
            ["pseudotime", "pseudotime_figure", "pseudotime_undefined"],
            name="order_pseudotime",
        ),
        Node(
            rank_heterogeneity,
            ["finite_embeddings", PARAMS],
            ["heterogeneity", "heterogeneity_curve", "heterogeneity_figure", "heterogeneity_undefined"],
            name="rank_heterogeneity",
        ),
    ]
    summary = {
        "modality": "modality_comparison",
        "cells": "pseudotime",
        "ranking": "heterogeneity",
        "params": PARAMS,
        "notes": "profile_notes",
    }
    if model.learned:
        nodes += [
            Node(overlap_attention, "attention", ["attention_overlap", "attention_overlap_figure"], name="overlap_attention"),
            Node(
                find_discriminative_tokens,
                ["attention", PARAMS],
                ["discriminative_tokens", "token_regions", "token_figure", "tokens_undefined"],
                name="find_discriminative_tokens",
            ),
            Node(gather_notes, ["nonfinite_embeddings", *UNDEFINED, "tokens_undefined"], "profile_notes", name="gather_notes"),
            Node(
                summarise_profile,
                {**summary, "overlap": "attention_overlap", "shares": "token_regions"},
                "profile_summary",
                name="summarise_profile",
            ),
        ]
    else:
        no_attention = bound(summarise_profile, overlap=pd.DataFrame(), shares=pd.DataFrame())
        nodes += [
            Node(gather_notes, ["nonfinite_embeddings", *UNDEFINED], "profile_notes", name="gather_notes"),
            Node(no_attention, summary, "profile_summary", name="summarise_profile"),
        ]
    return Pipeline(
        nodes,
        namespace=model.name,
        inputs={"profile_modality"},
        parameters={PARAMS},
        outputs={"profile_summary": f"{model.name}_profile_summary"},
    )


def create_pipeline(**kwargs) -> Pipeline:
    report = Node(
        bound(report_profile, models=MODEL_NAMES), [f"{m}_profile_summary" for m in MODEL_NAMES], "profile_report", name="report_profile"
    )
    return Pipeline([*(model_pipeline(m) for m in MODELS), report], tags="profile")
