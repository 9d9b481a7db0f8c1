import json
from pathlib import Path

from click.testing import CliRunner

from cell_dino.cli import cli


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
    assert other.exit_code != 0 and "another phantom" in str(other.exception)
