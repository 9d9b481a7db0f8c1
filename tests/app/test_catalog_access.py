"""The explorer's data layer: names only from the catalog, envs only from conf/, and each output
mapped to the pipeline that really writes it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.projects import REPO

sys.path.insert(0, str(REPO / "app"))
from explorer.data import MODELS, PRODUCED_BY, Missing, environments, load  # noqa: E402


def test_outputs_are_mapped_to_the_pipelines_that_write_them() -> None:
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(REPO)
    for name, pipeline in PRODUCED_BY.items():
        outputs = pipelines[pipeline].all_outputs()
        assert name in outputs or any(f"{m}.{name}" in outputs for m in MODELS), (name, pipeline)


def test_only_catalog_names_and_conf_environments_reach_the_file_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELL_DINO_PROJECT", str(REPO))
    assert "base" not in environments() and "test" in environments()
    with pytest.raises(Missing, match="not in the catalog"):
        load("test", "/etc/passwd")
    with pytest.raises(ValueError, match="unknown environment"):
        load("../../etc", "fov_table")
