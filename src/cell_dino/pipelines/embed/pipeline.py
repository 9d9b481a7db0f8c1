"""The embed pipeline: for each registered network (a Kedro namespace each: the trained runs and
their random-init twins) the items decided once, features of every item, an attention sample and
a report; for trained models, FOV profiles of every checkpoint. The ``cellprofiler`` namespace:
CellProfiler features of every segmented cell and a report; ``imagenet``: ImageNet DINO features per
channel of every item (none, skipped, without a weights file) and a report; each published cell model
(``embed.published.<name>``): its features of every item (none, skipped, without its weights file)."""

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines import bound
from cell_dino.pipelines.embed.nodes import (
    plan_cellprofiler,
    plan_embedding,
    plan_published,
    plan_transfer,
    profile_epochs,
    report_embedding,
    sample_attention,
    select_items,
)
from cell_dino.registry import MODELS, ModelSpec

RUN = ["checkpoints", "items", "params:embed"]


def cellprofiler_pipeline(model: ModelSpec) -> Pipeline:
    nodes = [
        Node(plan_cellprofiler, ["crop_store", "fov_store", "params:embed", "params:runtime"], "embeddings", name="plan_cellprofiler"),
        Node(bound(report_embedding, attention=None), "embeddings", "embed_report", name="report_embedding"),
    ]
    return Pipeline(nodes, namespace=model.name, inputs={"crop_store", "fov_store"}, parameters={"params:embed", "params:runtime"})


def transfer_pipeline(model: ModelSpec) -> Pipeline:
    nodes = [
        Node(plan_transfer, ["crop_store", "fov_store", "fov_table", "params:embed"], "embeddings", name="plan_transfer"),
        Node(bound(report_embedding, attention=None), "embeddings", "embed_report", name="report_embedding"),
    ]
    return Pipeline(nodes, namespace=model.name, inputs={"crop_store", "fov_store", "fov_table"}, parameters={"params:embed"})


def published_pipeline(model: ModelSpec) -> Pipeline:
    nodes = [
        Node(bound(plan_published, name=model.name), ["crop_store", "fov_store", "fov_table", "params:embed"], "embeddings", name="plan_published"),
        Node(bound(report_embedding, attention=None), "embeddings", "embed_report", name="report_embedding"),
    ]
    return Pipeline(nodes, namespace=model.name, inputs={"crop_store", "fov_store", "fov_table"}, parameters={"params:embed"})


def model_pipeline(model: ModelSpec) -> Pipeline:
    if model.published:
        return published_pipeline(model)
    if model.transfer:
        return transfer_pipeline(model)
    if not model.learned:
        return cellprofiler_pipeline(model)
    nodes = [
        Node(select_items, ["checkpoints", "crop_store", "fov_store", "fov_table", "params:embed"], "items", name="select_items"),
        Node(bound(plan_embedding, random_init=model.random_init), [*RUN, "params:runtime"], "embeddings", name="plan_embedding"),
        Node(bound(sample_attention, random_init=model.random_init), RUN, "attention", name="sample_attention"),
        Node(report_embedding, ["embeddings", "attention"], "embed_report", name="report_embedding"),
    ]
    if model.trained:
        nodes.append(Node(profile_epochs, RUN, "epoch_profiles", name="profile_epochs"))
    return Pipeline(
        nodes,
        namespace=model.name,
        inputs={"checkpoints": model.checkpoints, "crop_store": "crop_store", "fov_store": "fov_store", "fov_table": "fov_table"},
        parameters={"params:embed", "params:runtime"},
    )


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([model_pipeline(m) for m in MODELS], tags="embed")
