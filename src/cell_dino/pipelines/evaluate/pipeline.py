"""The evaluate pipeline: per model namespace, the published metrics on its profiles and items;
then one report with every model side by side."""

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines import bound
from cell_dino.pipelines.evaluate.nodes import (
    analyse_factors,
    classify_items,
    classify_other_labels,
    draw_figures,
    report_evaluation,
    score_by_layer,
    score_profiles,
    select_epoch,
    summarise_model,
)
from cell_dino.registry import MODEL_NAMES, MODELS, ModelSpec


def model_pipeline(model: ModelSpec) -> Pipeline:
    nodes = [
        Node(score_profiles, ["profiles", "params:evaluate"], ["metrics", "matches", "map_scores"], name="score_profiles"),
        Node(classify_items, ["embeddings", "params:evaluate"], ["predictions", "confusion", "classifier"], name="classify_items"),
        Node(classify_other_labels, ["embeddings", "params:evaluate"], "other_classifiers", name="classify_other_labels"),
        Node(
            analyse_factors,
            ["embeddings", "params:evaluate"],
            ["mutual_information", "factor_shares", "factors_undefined"],
            name="analyse_factors",
        ),
        Node(draw_figures, ["umap", "confusion"], ["umap_figure", "confusion_figure"], name="draw_figures"),
        Node(score_by_layer, ["embeddings", "params:evaluate", "params:integrate"], "layer_scores", name="score_by_layer"),
    ]
    inputs = ["metrics", "classifier", "other_classifiers", "factor_shares", "factors_undefined", "layer_scores", "params:evaluate"]
    parameters = {"params:evaluate", "params:integrate"}
    if model.trained:  # only trained runs have checkpoints to choose from; scored on profiles made as integrate makes them
        epochs = ["epoch_profiles", "params:evaluate", "params:integrate"]
        nodes.append(Node(select_epoch, epochs, ["epoch_selection", "selection"], name="select_epoch"))
        nodes.append(Node(summarise_model, [*inputs, "selection"], "summary", name="summarise_model"))
    else:
        nodes.append(Node(bound(summarise_model, selection={}), inputs, "summary", name="summarise_model"))
    return Pipeline(nodes, namespace=model.name, parameters=parameters, outputs={"summary": f"{model.name}_summary"})


def create_pipeline(**kwargs) -> Pipeline:
    report = Node(
        bound(report_evaluation, models=MODEL_NAMES),
        [f"{m}_summary" for m in MODEL_NAMES],
        ["evaluate_report", "factor_figure"],
        name="report_evaluation",
    )
    return Pipeline([*(model_pipeline(m) for m in MODELS), report], tags="evaluate")
