"""The ``cell-dino`` command (also ``kedro phantom``, ``kedro score`` inside the project): tools outside
the pipelines. Inside the project, ``kedro run`` is Kedro's own with expected errors (bad data, a
refused parameter, a run in progress) shown in a line or two (:mod:`cell_dino.core.expected`)."""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any, get_args

import click
import yaml

from cell_dino.core.expected import ReadableErrors, ReadableGroup, readable
from cell_dino.integrate.normalise import Method
from cell_dino.phantom import PRESETS, generate_phantom
from cell_dino.registry import MODEL_NAMES, PIPELINES, TRAINING_PIPELINES, TRAINING_RUNS


@click.group(name="cell-dino", cls=ReadableGroup)
def main() -> None:
    """cell-dino: unbiased morphology profiles with DINO and WS-DINO."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--preset", type=click.Choice(sorted(PRESETS)), default="test", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--overwrite", is_flag=True, help="replace an existing folder")
def phantom(out: Path, preset: str, seed: int, overwrite: bool) -> None:
    """Write a synthetic screen in the BBBC021 layout to OUT."""
    generate_phantom(out, preset, seed, overwrite=overwrite)


def parse_params(text: str) -> dict[str, Any]:
    """``a.b=1,c=x`` (as ``kedro run --params``) -> ``{"a": {"b": 1}, "c": "x"}``."""
    params: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        if "=" not in item:
            raise click.BadParameter(f"expected key=value, got {item!r}", param_hint="--params")
        key, value = item.split("=", 1)
        *parents, leaf = key.strip().split(".")
        target = params
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = yaml.safe_load(value)
    return params


@main.command()
@click.option("--pipeline", "pipeline_name", type=click.Choice(TRAINING_PIPELINES), default="train_dino", show_default=True)
@click.option("--env", "-e", default=None, help="Kedro configuration environment (e.g. test, bbbc021)")
@click.option("--params", default="", help="runtime parameters, as kedro run --params (a.b=1,c=x)")
@click.option("--namespaces", default="", help="only these runs of the pipeline, comma-separated (e.g. wsdino)")
def train(pipeline_name: str, env: str | None, params: str, namespaces: str) -> None:
    """Train with the project's configuration; run it under torchrun for several GPUs or nodes:

    torchrun --nproc_per_node 4 -m cell_dino.cli train --pipeline train_dino
    """
    from cell_dino.pipelines.distributed_training import run_training

    chosen = [n.strip() for n in namespaces.split(",") if n.strip()] or None
    run_training(pipeline_name, env, parse_params(params), Path.cwd(), chosen)


@main.command(name="score")
@click.argument("profiles", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--level", type=click.Choice(["well", "treatment"]), default="well", show_default=True, help="what one row is")
@click.option("--label", default="Metadata_MoA", show_default=True, help="the MoA column ('|' separates several)")
@click.option("--compound", default="Metadata_Compound", show_default=True, help="never a neighbour of itself")
@click.option("--dose", default=None, help="with the compound, makes the treatment (compound@dose)")
@click.option("--treatment", default=None, help="a ready treatment column, instead of compound and dose")
@click.option("--batch", default="Metadata_Batch", show_default=True, help="for NSCB; 'none' when there is no batch")
@click.option("--control", default=None, help="COLUMN=VALUE marking controls, e.g. Metadata_pert_type=control")
@click.option(
    "--normalise",
    type=click.Choice([m for m in get_args(Method) if m != "harmony"]),
    default="none",
    show_default=True,
    help="applied to the rows first (a pycytominer table is normalised already)",
)
@click.option("--permutations", type=click.IntRange(min=10), default=10000, show_default=True, help="for the mAP p-values")
@click.option(
    "--features",
    "feature_prefixes",
    multiple=True,
    help="feature columns are those starting with this prefix (repeat for several); default: CellProfiler's compartments "
    "(Cells_, Cytoplasm_, Nuclei_) when the table has them, else every non-Metadata_ column",
)
def score_command(
    profiles: Path,
    level: str,
    label: str,
    compound: str,
    dose: str | None,
    treatment: str | None,
    batch: str,
    control: str | None,
    normalise: str,
    permutations: int,
    feature_prefixes: tuple[str, ...],
) -> None:
    """Score a profile table (pycytominer layout: Metadata_* + features): NSC, NSCB, k-NN and mAP.
    Prints one JSON line, then a table."""
    from cell_dino.evaluate.profile_table_score import TableColumns, read_profile_table, score_table
    from cell_dino.evaluate.scorecard import ScoringSpec

    columns = TableColumns(label, compound, dose, treatment, None if batch == "none" else batch, control)
    try:
        record, table = score_table(
            read_profile_table(profiles, feature_prefixes or None),
            level,
            columns,
            normalise,
            ScoringSpec(map_null_size=permutations),
            str(profiles),
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(record))
    click.echo(table.to_string(index=False))


class CheckedRun(ReadableErrors):
    """Kedro's ``run`` with its pipeline and namespace names checked against the registry first
    (Kedro reports an unknown one as an import error deep in a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        asked = [ctx.params.get("pipeline"), *(ctx.params.get("pipelines") or [])]
        unknown = [name for name in asked if name and name not in (*PIPELINES, "__default__")]
        if unknown:
            raise click.BadParameter(f"no pipeline {unknown}; the pipelines are {list(PIPELINES)}", param_hint="--pipelines")
        namespaces = {*MODEL_NAMES, *(run.name for run in TRAINING_RUNS)}
        unknown = [name for name in ctx.params.get("namespaces") or [] if name.split(".")[0] not in namespaces]
        if unknown:
            raise click.BadParameter(f"no namespace {unknown}; the namespaces are {sorted(namespaces)}", param_hint="--namespaces")
        return super().invoke(ctx)


@functools.cache
def kedro_commands() -> click.Group:
    """What Kedro adds to its own commands inside the project: ``cell-dino``'s, and ``run`` with
    its names checked and readable expected errors (replacing Kedro's)."""
    from kedro.framework.cli.project import run

    return ReadableGroup(name="cell-dino", commands={**main.commands, "run": readable(run, CheckedRun)}, help=main.help)


def __getattr__(name: str) -> Any:
    """``cli``, the group Kedro reads from a project's ``cli`` module, made on first use: importing
    Kedro's commands configures its logging, which would print into ``cell-dino score``'s record."""
    if name == "cli":
        return kedro_commands()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main()
