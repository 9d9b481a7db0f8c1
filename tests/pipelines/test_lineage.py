"""``kedro viz build``: every registered pipeline appears in the built graph, with the data layers
and the model namespaces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project

from tests.projects import REPO, make_project


def test_kedro_viz_build_shows_every_pipeline_with_layers_and_namespaces(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    kedro = Path(sys.executable).with_name("kedro")
    subprocess.run(
        [str(kedro), "viz", "build"],
        cwd=project,
        check=True,
        capture_output=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"},
    )
    graph = json.loads((project / "build" / "api" / "main").read_text())
    bootstrap_project(REPO)
    assert {p["id"] for p in graph["pipelines"]} == set(pipelines)
    assert set(graph["layers"]) == {"raw", "intermediate", "primary", "feature", "model_input", "models", "model_output", "reporting"}
    namespaces = {n["id"] for n in graph["nodes"] if n["type"] == "modularPipeline"}
    assert {"dino", "dino_random", "wsdino_cells", "wsdino", "wsdino_random"} <= namespaces
    for name in pipelines:
        if name != "__default__":
            assert json.loads((project / "build" / "api" / "pipelines" / name).read_text())["nodes"], name
