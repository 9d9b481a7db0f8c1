"""What the project runs, named once and torch-free (the explorer reads it): the pipelines in the
order of the whole chain, and the models the pipelines after training embed, integrate, evaluate
and profile, each a Kedro namespace: the two trained runs and their random-init twins (the same
architecture, untrained: the baseline)."""

from __future__ import annotations

from dataclasses import dataclass

PIPELINES = ("ingest", "segment", "train_dino", "train_wsdino", "embed", "integrate", "evaluate", "profile", "sweep")


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the namespace of its outputs
    checkpoints: str  # the catalog entry of the run it comes from
    random_init: bool  # the run's architecture at random initialisation

    @property
    def trained(self) -> bool:
        return not self.random_init


MODELS = (
    ModelSpec("dino", "dino_checkpoints", False),
    ModelSpec("dino_random", "dino_checkpoints", True),
    ModelSpec("wsdino", "wsdino_checkpoints", False),
    ModelSpec("wsdino_random", "wsdino_checkpoints", True),
)
MODEL_NAMES = tuple(m.name for m in MODELS)


def model(name: str) -> ModelSpec:
    """The registered model called ``name``."""
    for spec in MODELS:
        if spec.name == name:
            return spec
    raise KeyError(f"no model {name!r}; registered: {list(MODEL_NAMES)}")
