"""The code passes ruff's checks (pyproject.toml's settings): an undefined name or an unused import
fails here, in the suite, not in a user's run."""

import subprocess
import sys

from tests.projects import REPO


def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "app", "tests", "benchmarks"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:]
