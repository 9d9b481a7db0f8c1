"""What the project runs, named once and torch-free (the explorer reads it): the pipelines in the
order of the whole chain, the training runs, and the models the pipelines after training embed,
integrate, evaluate and profile, each a Kedro namespace: the trained runs, random-init twins (the
same architecture, untrained) and CellProfiler features (measured, not learned): the baselines."""

from __future__ import annotations

from dataclasses import dataclass

PIPELINES = ("ingest", "segment", "train_dino", "train_wsdino", "embed", "integrate", "evaluate", "profile", "sweep")


@dataclass(frozen=True)
class TrainingRun:
    """A run that ``pipeline`` trains from ``params:<parameters>`` into ``<name>_checkpoints``, with
    the metrics table ``<name>_training_metrics`` and the report ``<parameters>_report``."""

    name: str  # the run's namespace
    pipeline: str
    parameters: str


TRAINING_RUNS = (
    TrainingRun("dino", "train_dino", "train_dino"),  # DINO4Cells: DINO on single cells
    TrainingRun("wsdino", "train_wsdino", "train_wsdino"),  # WS-DINO as published: whole fields
    TrainingRun("wsdino_cells", "train_wsdino", "train_wsdino_cells"),  # WS-DINO on DINO's cells, DINO's settings
)

TRAINING_PIPELINES = tuple(dict.fromkeys(run.pipeline for run in TRAINING_RUNS))


def training_runs(pipeline: str) -> tuple[TrainingRun, ...]:
    """The runs ``pipeline`` trains (none for a pipeline that does not train)."""
    return tuple(run for run in TRAINING_RUNS if run.pipeline == pipeline)


def parameter_blocks(pipeline: str) -> tuple[str, ...]:
    """The parameter blocks ``pipeline`` reads: its own, and those of the runs it trains."""
    return tuple(dict.fromkeys([pipeline, *(run.parameters for run in training_runs(pipeline))]))


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the namespace of its outputs
    checkpoints: str | None  # the catalog entry of the run it comes from; None: features measured, not learned
    random_init: bool = False  # the run's architecture at random initialisation

    @property
    def learned(self) -> bool:
        """A network: its attention maps and patch tokens can be analysed."""
        return self.checkpoints is not None

    @property
    def trained(self) -> bool:
        """A trained network: its checkpoints can be chosen from."""
        return self.learned and not self.random_init


MODELS = (
    ModelSpec("dino", "dino_checkpoints", False),
    ModelSpec("dino_random", "dino_checkpoints", True),
    ModelSpec("wsdino_cells", "wsdino_cells_checkpoints", False),  # dino_random is its random-init twin
    ModelSpec("wsdino", "wsdino_checkpoints", False),
    ModelSpec("wsdino_random", "wsdino_checkpoints", True),
    ModelSpec("cellprofiler", None),
)
MODEL_NAMES = tuple(m.name for m in MODELS)


def model(name: str) -> ModelSpec:
    """The registered model called ``name``."""
    for spec in MODELS:
        if spec.name == name:
            return spec
    raise KeyError(f"no model {name!r}; registered: {list(MODEL_NAMES)}")
