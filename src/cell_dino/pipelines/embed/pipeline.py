"""The embed pipeline: for each trained model and its random-init twin (a Kedro namespace each),
features of every item, an attention sample and a report; for trained models, well profiles of
every checkpoint."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from cell_dino.pipelines.embed.nodes import plan_embedding, profile_epochs, report_embedding, sample_attention

# model namespace -> (checkpoint folder, random init of the same architecture?)
MODELS = {"dino": ("dino_checkpoints", False), "dino_random": ("dino_checkpoints", True),
          "wsdino": ("wsdino_checkpoints", False), "wsdino_random": ("wsdino_checkpoints", True)}  # fmt: skip
STORES = ["checkpoints", "crop_store", "fov_store", "fov_table", "params:embed"]


def _bound(function, **kwargs):
    return update_wrapper(partial(function, **kwargs), function)


def model_pipeline(model: str) -> Pipeline:
    checkpoints, random_init = MODELS[model]
    nodes = [
        Node(_bound(plan_embedding, random_init=random_init), STORES, "embeddings", name="embed"),
        Node(_bound(sample_attention, random_init=random_init), STORES, "attention", name="sample_attention"),
        Node(report_embedding, ["embeddings", "attention"], "embed_report", name="report_embedding"),
    ]
    if not random_init:
        nodes.append(Node(profile_epochs, STORES, "epoch_profiles", name="profile_epochs"))
    shared = {"crop_store", "fov_store", "fov_table"}
    return Pipeline(nodes, namespace=model, inputs={"checkpoints": checkpoints, **{s: s for s in shared}}, parameters={"params:embed"})


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([model_pipeline(m) for m in MODELS], tags="embed")
