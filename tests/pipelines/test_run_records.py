"""The run record hook, through a real Kedro run of the test env."""

import json
import logging
from pathlib import Path

import pytest

from tests.pipelines.conftest import run_pipeline


def test_a_run_leaves_a_record_of_its_parameters(project: Path) -> None:
    run_pipeline(project, "ingest", params={"ingest": {"preprocess": {"clip_percentile": 98.0}}})
    record = json.loads((project / "data/test/08_reporting/runs/ingest.json").read_text())
    assert record["pipeline"] == "ingest" and record["env"] == "test"
    assert record["runtime_params"] == {"ingest": {"preprocess": {"clip_percentile": 98.0}}}
    assert list(record["parameters"]) == ["ingest", "runtime"]  # the blocks the pipeline reads (runtime: where its shards run)
    assert record["parameters"]["ingest"]["source"]["root"] == "data/test/01_raw/phantom"  # the test env's override
    assert record["parameters"]["ingest"]["preprocess"]["clip_percentile"] == 98.0  # and the runtime one


def test_a_run_record_never_holds_a_password(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``sweep.storage: postgresql://user:pw@host/db`` was written verbatim into the run records."""
    caplog.set_level(logging.INFO)
    run_pipeline(project, "ingest", params={"sweep_storage": "postgresql://user:s3cret@localhost:1/optuna"})
    text = (project / "data/test/08_reporting/runs/ingest.json").read_text()
    assert "s3cret" not in text and json.loads(text)["runtime_params"]["sweep_storage"] == "postgresql://user:***@localhost:1/optuna"
    assert "s3cret" not in caplog.text
