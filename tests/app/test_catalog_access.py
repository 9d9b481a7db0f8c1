"""The explorer's data layer: names only from the catalog, envs only from conf/, and each output
mapped to the pipeline that really writes it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.projects import REPO

sys.path.insert(0, str(REPO / "app"))
from explorer.catalog import Missing, environments, load, produced_by  # noqa: E402


def test_every_output_has_its_own_catalog_entry_naming_the_pipeline_that_writes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """No catch-all pattern turns a misspelt output into a new file: each output of each pipeline
    resolves to an entry whose metadata names that pipeline, which the explorer reads."""
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    monkeypatch.setenv("CELL_DINO_PROJECT", str(REPO))
    bootstrap_project(REPO)
    for name, pipeline in pipelines.items():
        if name == "__default__":
            continue
        for output in pipeline.all_outputs():
            assert produced_by("test", output) == name, (output, name, produced_by("test", output))
    assert produced_by("test", "dino.metrcs") is None  # a typo resolves to no entry


def test_only_catalog_names_and_conf_environments_reach_the_file_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELL_DINO_PROJECT", str(REPO))
    assert "base" not in environments() and "test" in environments()
    with pytest.raises(Missing, match="not in the catalog"):
        load("test", "/etc/passwd")
    with pytest.raises(ValueError, match="unknown environment"):
        load("../../etc", "fov_table")
