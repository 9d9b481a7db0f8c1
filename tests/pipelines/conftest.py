"""Run pipelines of a temporary copy of the project (its own conf/ and data/)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.conftest import REPO


@pytest.fixture()
def project(tmp_path: Path, test_phantom: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with conf/ and the test phantom at the test env's raw data root."""
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    (tmp_path / "src").mkdir()  # the package itself is installed
    shutil.copytree(REPO / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "conf" / "local").mkdir()
    shutil.copytree(test_phantom, tmp_path / "data" / "test" / "01_raw" / "phantom")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
    return tmp_path


def run_pipeline(project: Path, name: str, env: str = "test", params: dict[str, Any] | None = None) -> None:
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env, runtime_params=params) as session:
        session.run(pipeline_names=[name])
