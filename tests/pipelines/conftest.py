"""A temporary project per test (its own conf/ and data/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.projects import make_project, run_pipeline

__all__ = ["run_pipeline"]


@pytest.fixture()
def project(tmp_path: Path, test_phantom: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with conf/ and the test phantom at the test env's raw data root."""
    make_project(tmp_path, test_phantom)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
    return tmp_path
