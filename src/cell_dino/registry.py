"""What the project runs, named once and torch-free (the explorer reads it): the pipelines in the
order of the whole chain, the training runs, and the models the pipelines after training embed,
integrate, evaluate and profile, each a Kedro namespace: the trained runs, random-init twins (the
same architecture, untrained), CellProfiler features (measured, not learned) and ImageNet DINO per
channel (a network trained elsewhere: the WS-DINO paper's transfer baseline): the baselines; and the
published cell models, each from a local weights file (skipped without one)."""

from __future__ import annotations

from dataclasses import dataclass

PIPELINES = ("ingest", "segment", "train_dino", "train_wsdino", "embed", "integrate", "evaluate", "profile", "sweep")


@dataclass(frozen=True)
class TrainingSpec:
    """A run that ``pipeline`` trains from ``params:<parameters>`` into ``<name>_checkpoints``, with
    the metrics table ``<name>_training_metrics`` and the report ``train_<name>_report``. With
    ``weak_labels_from``, that block's weak labels replace the run's own: the same run with WS-DINO's
    weak labels (and their inverse-frequency sampling, part of WS-DINO), every other setting shared;
    with ``mode``, that mode replaces the block's (the same run as a bag of channels)."""

    name: str  # the run's namespace
    pipeline: str
    parameters: str
    weak_labels_from: str | None = None
    mode: str | None = None  # None: the parameter block's (multichannel, per_channel or bag_of_channels)

    @property
    def checkpoints(self) -> str:
        """Its checkpoints' catalog name (the catalog's ``{run}_checkpoints`` pattern)."""
        return f"{self.name}_checkpoints"

    @property
    def metrics(self) -> str:
        """Its per-epoch metrics table's catalog name."""
        return f"{self.name}_training_metrics"

    @property
    def report(self) -> str:
        """Its report's catalog name (``08_reporting/train_<name>.json``)."""
        return f"train_{self.name}_report"


TRAINING_RUNS = (
    TrainingSpec("dino", "train_dino", "train_dino"),  # DINO4Cells: DINO on single cells
    TrainingSpec("wsdino", "train_wsdino", "train_wsdino"),  # WS-DINO as published: whole fields
    TrainingSpec("wsdino_cells", "train_wsdino", "train_dino", weak_labels_from="train_wsdino"),  # WS-DINO on DINO's cells
    TrainingSpec("dino_bag", "train_dino", "train_dino", mode="bag_of_channels"),  # DINO's run, one network for every channel
)
TRAINING_PIPELINES = tuple(dict.fromkeys(run.pipeline for run in TRAINING_RUNS))


def producing_pipeline(dataset: str) -> str | None:
    """The pipeline that writes a training run's output ``dataset`` (its checkpoints, metrics or
    report), or None for other datasets (their catalog entry says)."""
    for run in TRAINING_RUNS:
        if dataset in (run.checkpoints, run.metrics, run.report):
            return run.pipeline
    return None


def training_runs(pipeline: str) -> tuple[TrainingSpec, ...]:
    """The runs ``pipeline`` trains (none for a pipeline that does not train)."""
    return tuple(run for run in TRAINING_RUNS if run.pipeline == pipeline)


def parameter_blocks(pipeline: str) -> tuple[str, ...]:
    """The parameter blocks that configure ``pipeline``: its own, and those of the runs it trains."""
    runs = training_runs(pipeline)
    return tuple(dict.fromkeys([pipeline, *(r.parameters for r in runs), *(r.weak_labels_from for r in runs if r.weak_labels_from)]))


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the namespace of its outputs
    checkpoints: str | None  # the catalog entry of the run it comes from; None: not trained here
    random_init: bool = False  # the run's architecture at random initialisation
    transfer: bool = False  # a network trained elsewhere (embed.imagenet: ImageNet DINO per channel); else features measured
    published: bool = False  # a published cell model from its local weights file (embed.published.<name>)

    @property
    def learned(self) -> bool:
        """A network trained here, or its random-init twin: its attention maps and patch tokens are analysed."""
        return self.checkpoints is not None

    @property
    def kind(self) -> str:
        """What the model is, in words (the explorer says why a baseline has no attention maps)."""
        if self.published:
            return "a published cell model"
        if self.transfer:
            return "a network trained elsewhere"
        if not self.learned:
            return "measured features, not a network"
        return "a random-init network" if self.random_init else "a network trained here"

    @property
    def trained(self) -> bool:
        """A trained network: its checkpoints can be chosen from."""
        return self.learned and not self.random_init


# The published cell models (the names their loaders register under, cell_dino.encoders.published):
# DINO4Cells' checkpoints, CHAMMI-75's MorphEm, Cell-DINO, OpenPhenom and SubCell.
PUBLISHED_MODELS = ("dino4cells", "morphem", "celldino", "openphenom", "subcell")


def _run(name: str) -> TrainingSpec:
    """The registered training run called ``name`` (KeyError naming the runs otherwise)."""
    runs = {run.name: run for run in TRAINING_RUNS}
    if name not in runs:
        raise KeyError(f"no training run {name!r}; registered: {list(runs)}")
    return runs[name]


MODELS = (
    ModelSpec("dino", _run("dino").checkpoints, False),
    ModelSpec("dino_random", _run("dino").checkpoints, True),
    ModelSpec("wsdino_cells", _run("wsdino_cells").checkpoints, False),  # dino_random is its random-init twin
    ModelSpec("wsdino", _run("wsdino").checkpoints, False),
    ModelSpec("wsdino_random", _run("wsdino").checkpoints, True),
    ModelSpec("dino_bag", _run("dino_bag").checkpoints, False),
    ModelSpec("dino_bag_random", _run("dino_bag").checkpoints, True),
    ModelSpec("cellprofiler", None),
    ModelSpec("imagenet", None, transfer=True),  # skipped (no items) unless embed.imagenet.weights names a weights file
    # published cell models (cell_dino.encoders.published, one module each): skipped unless embed.published.<name>.weights is set
    *(ModelSpec(name, None, published=True) for name in PUBLISHED_MODELS),
)
MODEL_NAMES = tuple(m.name for m in MODELS)


def model(name: str) -> ModelSpec:
    """The registered model called ``name``."""
    for spec in MODELS:
        if spec.name == name:
            return spec
    raise KeyError(f"no model {name!r}; registered: {list(MODEL_NAMES)}")


def random_twin(name: str) -> str | None:
    """The random-init twin of the trained model ``name``: the random-init model of a run trained
    from the same parameter block in the same mode (the same architecture): ``dino_random`` for DINO
    and WS-DINO on cells, ``wsdino_random`` for WS-DINO on fields, ``dino_bag_random`` for DINO as a
    bag of channels; None when there is none."""
    if model(name).random_init:
        return None
    runs = {run.checkpoints: (run.parameters, run.mode) for run in TRAINING_RUNS}
    architecture = runs.get(model(name).checkpoints)
    twins = [m.name for m in MODELS if m.random_init and runs.get(m.checkpoints) == architecture]
    return twins[0] if architecture is not None and twins else None
