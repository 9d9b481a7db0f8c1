"""The train_wsdino pipeline: the training pipeline with weak labels (``train_wsdino.weak_labels``)."""

from kedro.pipeline import Pipeline

from cell_dino.pipelines.train_dino.pipeline import training_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return training_pipeline("train_wsdino", "wsdino")
