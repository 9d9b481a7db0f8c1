import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from pydantic import BaseModel, PositiveInt

from cell_dino.cli import cli, main
from cell_dino.core.expected import ReadableGroup, expected_cause
from cell_dino.data.errors import ManifestError
from cell_dino.publication import RunInProgress


def test_phantom_command_writes_and_keeps_an_existing_phantom(tmp_path: Path) -> None:
    out = tmp_path / "p"
    runner = CliRunner()
    first = runner.invoke(cli, ["phantom", str(out), "--preset", "test", "--seed", "3"])
    assert first.exit_code == 0, first.output
    record = json.loads((out / "phantom.json").read_text())
    assert (record["preset"], record["seed"], record["n_fovs"]) == ("test", 3, 48)
    stamp = (out / "BBBC021_v1_image.csv").stat().st_mtime_ns
    again = runner.invoke(cli, ["phantom", str(out), "--preset", "test", "--seed", "3"])
    assert again.exit_code == 0
    assert (out / "BBBC021_v1_image.csv").stat().st_mtime_ns == stamp
    other = runner.invoke(cli, ["phantom", str(out), "--preset", "test", "--seed", "4"])
    assert other.exit_code == 1 and other.output.startswith("Error: FileExistsError: ") and "another phantom" in other.output
    assert "Traceback" not in other.output and len(other.output.strip().splitlines()) <= 2


class Batch(BaseModel):
    batch_size: PositiveInt


def failing_group() -> click.Group:
    """Commands that fail as the chain does: a data error wrapped by Kedro's dataset (its cause), a
    refused parameter, a run in progress, and a fault of the program."""
    group = ReadableGroup()

    @group.command()
    def wrapped() -> None:
        try:
            raise ManifestError("plate1.csv row 3, column mmoles_per_liter: '10 uM' is not a number")
        except ManifestError as error:
            raise RuntimeError("Failed while saving data to dataset fov_manifest") from error

    @group.command()
    def parameter() -> None:
        Batch(batch_size=0)

    @group.command()
    def busy() -> None:
        raise RunInProgress("another cell-dino run is writing data (pid 7); wait for it to finish")

    @group.command()
    def fault() -> None:
        raise KeyError("a bug")

    return group


@pytest.mark.parametrize(
    ("command", "first_line"),
    [
        ("wrapped", "Error: ManifestError: plate1.csv row 3, column mmoles_per_liter: '10 uM' is not a number"),
        ("parameter", "Error: ValidationError: 1 validation error for Batch"),
        ("busy", "Error: RunInProgress: another cell-dino run is writing data (pid 7); wait for it to finish"),
    ],
)
def test_an_expected_error_ends_the_command_in_a_few_lines(command: str, first_line: str) -> None:
    result = CliRunner().invoke(failing_group(), [command])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and lines[0] == first_line and len(lines) <= 3 and "Traceback" not in result.output
    assert "errors.pydantic.dev" not in result.output


def test_an_unexpected_error_keeps_its_traceback() -> None:
    result = CliRunner().invoke(failing_group(), ["fault"])
    assert isinstance(result.exception, KeyError) and result.exit_code == 1 and "Error:" not in result.output
    assert expected_cause(RuntimeError("x")) is None
    try:
        try:
            raise FileNotFoundError("a file the code handles")
        except FileNotFoundError:
            raise KeyError("a fault while handling it")  # noqa: B904 - the point: no explicit cause
    except KeyError as fault:
        assert fault.__context__ is not None and expected_cause(fault) is None  # handled, not its cause: the fault keeps its traceback


def test_kedro_run_inside_the_project_is_kedros_own_with_readable_errors_and_checked_names() -> None:
    from kedro.framework.cli.project import run

    assert set(main.commands) < set(cli.commands) and cli.commands["run"].params == run.params
    assert isinstance(cli, ReadableGroup) and cli.commands["run"].callback is run.callback
    pipeline = CliRunner().invoke(cli, ["run", "--pipelines", "embedd"])
    assert pipeline.exit_code == 2 and "no pipeline ['embedd']; the pipelines are ['ingest'" in pipeline.output
    namespace = CliRunner().invoke(cli, ["run", "--pipelines", "embed", "--namespaces", "dinoo"])
    assert namespace.exit_code == 2 and "no namespace ['dinoo']; the namespaces are ['celldino', 'cellprofiler', 'dino'" in namespace.output
