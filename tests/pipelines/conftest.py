"""A temporary project per test (its own conf/ and data/), and the test phantom ingested and
segmented once per session: a test that starts after those pipelines gets a copy of their data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.projects import make_project, run_pipeline

__all__ = ["run_pipeline"]
DATA = Path("data/test")


@pytest.fixture()
def project(tmp_path: Path, test_phantom: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with conf/ and the test phantom at the test env's raw data root."""
    make_project(tmp_path, test_phantom)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
    return tmp_path


def _run_once(factory: pytest.TempPathFactory, phantom: Path, pipelines: tuple[str, ...]) -> Path:
    root = make_project(factory.mktemp("-".join(pipelines)), phantom)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
        for name in pipelines:
            run_pipeline(root, name)
    return root / DATA


@pytest.fixture(scope="session")
def ingested_data(tmp_path_factory: pytest.TempPathFactory, test_phantom: Path) -> Path:
    """``data/test`` after ``kedro run -e test --pipeline ingest`` on the test phantom (read-only)."""
    return _run_once(tmp_path_factory, test_phantom, ("ingest",))


@pytest.fixture(scope="session")
def segmented_data(tmp_path_factory: pytest.TempPathFactory, test_phantom: Path) -> Path:
    """``data/test`` after ingest and segment on the test phantom (read-only)."""
    return _run_once(tmp_path_factory, test_phantom, ("ingest", "segment"))


def _with_data(project: Path, data: Path) -> Path:
    shutil.rmtree(project / DATA)
    shutil.copytree(data, project / DATA)
    return project


@pytest.fixture()
def ingested(project: Path, ingested_data: Path) -> Path:
    """``project`` after ingest (a copy of the session's run)."""
    return _with_data(project, ingested_data)


@pytest.fixture()
def segmented(project: Path, segmented_data: Path) -> Path:
    """``project`` after ingest and segment (a copy of the session's run)."""
    return _with_data(project, segmented_data)
