"""The train_wsdino pipeline: the training pipeline with weak labels, on whole fields as the paper
trains (``wsdino``: ``params:train_wsdino``) and on the cells DINO trains on with every one of DINO's
settings (``wsdino_cells``: ``params:train_dino`` with ``train_wsdino``'s weak labels)."""

from kedro.pipeline import Pipeline

from cell_dino.pipelines.train_dino.pipeline import training_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return training_pipeline("train_wsdino")
