"""The train_wsdino pipeline."""

from kedro.pipeline import Pipeline

from cell_dino.pipelines.train_dino.nodes import plan_wsdino
from cell_dino.pipelines.train_dino.pipeline import training_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return training_pipeline("train_wsdino", "wsdino", plan_wsdino)
