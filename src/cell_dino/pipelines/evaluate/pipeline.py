"""The evaluate pipeline: per model namespace, the published metrics on its profiles and items;
then one report with every model side by side."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines.embed.pipeline import MODELS
from cell_dino.pipelines.evaluate.nodes import (
    analyse_factors, classify_items, draw_figures, report_evaluation, score_profiles, select_epoch, summarise_model,
)  # fmt: skip


def model_pipeline(model: str) -> Pipeline:
    trained = not MODELS[model][1]
    nodes = [
        Node(score_profiles, ["profiles", "params:evaluate"], ["metrics", "matches", "map_scores"], name="score_profiles"),
        Node(classify_items, ["embeddings", "params:evaluate"], ["predictions", "confusion", "classifier"], name="classify_items"),
        Node(analyse_factors, ["embeddings", "params:evaluate"], ["mutual_information", "factor_shares"], name="analyse_factors"),
        Node(draw_figures, ["umap", "confusion"], ["umap_figure", "confusion_figure"], name="draw_figures"),
    ]
    if trained:
        nodes.append(Node(select_epoch, ["epoch_profiles", "params:evaluate"], ["epoch_selection", "selection"], name="select_epoch"))
        summary_inputs = ["metrics", "classifier", "factor_shares", "params:evaluate", "selection"]
        summarise = summarise_model
    else:
        summary_inputs = ["metrics", "classifier", "factor_shares", "params:evaluate"]
        summarise = update_wrapper(partial(summarise_model, selection={}), summarise_model)
    nodes.append(Node(summarise, summary_inputs, "summary", name="summarise_model"))
    return Pipeline(nodes, namespace=model, parameters={"params:evaluate"}, outputs={"summary": f"{model}_summary"})


def create_pipeline(**kwargs) -> Pipeline:
    models = tuple(MODELS)
    report = update_wrapper(partial(report_evaluation, models=models), report_evaluation)
    combined = Node(report, [f"{m}_summary" for m in models], ["evaluate_report", "factor_figure"], name="report_evaluation")
    return Pipeline([*(model_pipeline(m) for m in models), combined], tags="evaluate")
