"""The ``cell-dino`` command (also ``kedro phantom`` inside the project): tools outside the pipelines."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from cell_dino.data.phantom import PRESETS, generate_phantom


@click.group(name="cell-dino")
def cli() -> None:
    """cell-dino: unbiased morphology profiles with DINO and WS-DINO."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--preset", type=click.Choice(sorted(PRESETS)), default="test", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--overwrite", is_flag=True, help="replace an existing folder")
def phantom(out: Path, preset: str, seed: int, overwrite: bool) -> None:
    """Write a synthetic screen in the BBBC021 layout to OUT."""
    generate_phantom(out, preset, seed, overwrite=overwrite)


main = cli
