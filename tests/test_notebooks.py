"""The worked notebooks under notebooks/ run top to bottom (nbclient, a fresh kernel each) on the
outputs of the test run, as `kedro jupyter notebook` would run them on the demo's."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.projects import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_the_three_worked_notebooks_are_there() -> None:
    assert [n.stem for n in NOTEBOOKS] == ["01_demo_results", "02_bring_your_own_loaddata", "03_compare_models_and_normalisations"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_on_the_test_runs_outputs(notebook: Path, finished_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELL_DINO_PROJECT", str(finished_project))
    monkeypatch.setenv("CELL_DINO_ENV", "test")
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
    book = nbformat.read(notebook, as_version=4)
    NotebookClient(book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}).execute()
    errors = [o for cell in book.cells if cell.cell_type == "code" for o in cell.outputs if o.output_type == "error"]
    assert not errors, errors[0]["evalue"]
    assert all(cell.get("execution_count") for cell in book.cells if cell.cell_type == "code")
