"""The profile pipeline: per model namespace, similarity matrices, agreement with another
modality, pseudotime, heterogeneity, attention-channel overlap and discriminative patch tokens;
then one report with every model side by side."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines.embed.pipeline import MODELS
from cell_dino.pipelines.profile.nodes import (
    compare_modality, find_discriminative_tokens, order_pseudotime, overlap_attention, rank_heterogeneity,
    report_profile, similarity_matrices, summarise_profile,
)  # fmt: skip

PARAMS = "params:profile"
UNDEFINED = ["similarity_undefined", "modality_undefined", "pseudotime_undefined", "heterogeneity_undefined", "tokens_undefined"]


def model_pipeline(model: str) -> Pipeline:
    nodes = [
        Node(similarity_matrices, ["profiles", PARAMS], ["similarity", "similarity_figures", "similarity_undefined"], name="similarity_matrices"),
        Node(compare_modality, ["profiles", "profile_modality", PARAMS], ["modality_comparison", "modality_undefined"], name="compare_modality"),
        Node(order_pseudotime, ["embeddings", PARAMS], ["pseudotime", "pseudotime_figure", "pseudotime_undefined"], name="order_pseudotime"),
        Node(rank_heterogeneity, ["embeddings", PARAMS], ["heterogeneity", "heterogeneity_curve", "heterogeneity_figure", "heterogeneity_undefined"],
             name="rank_heterogeneity"),
        Node(overlap_attention, ["attention", "crop_store", PARAMS], ["attention_overlap", "attention_overlap_figure"], name="overlap_attention"),
        Node(find_discriminative_tokens, ["attention", PARAMS], ["discriminative_tokens", "token_regions", "token_figure", "tokens_undefined"],
             name="find_discriminative_tokens"),
        Node(summarise_profile, ["modality_comparison", "pseudotime", "heterogeneity", "attention_overlap", "token_regions", PARAMS,
                                 *UNDEFINED], "profile_summary", name="summarise_profile"),  # fmt: skip
    ]
    return Pipeline(nodes, namespace=model, inputs={"profile_modality", "crop_store"}, parameters={PARAMS},
                    outputs={"profile_summary": f"{model}_profile_summary"})  # fmt: skip


def create_pipeline(**kwargs) -> Pipeline:
    models = tuple(MODELS)
    report = update_wrapper(partial(report_profile, models=models), report_profile)
    combined = Node(report, [f"{m}_profile_summary" for m in models], "profile_report", name="report_profile")
    return Pipeline([*(model_pipeline(m) for m in models), combined], tags="profile")
