"""The train_wsdino pipeline: the training pipeline with weak labels, on whole fields as the paper
trains (``train_wsdino``) and on the cells DINO trains on, with DINO's settings (``train_wsdino_cells``)."""

from kedro.pipeline import Pipeline

from cell_dino.pipelines.train_dino.pipeline import training_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return training_pipeline("train_wsdino")
