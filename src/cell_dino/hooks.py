"""Kedro hooks: a record of each finished run (pipelines, env, time, the parameters it used)."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import datetime, timezone
from typing import Any

from kedro.framework.hooks import hook_impl

RECORD = "{pipeline}_run"  # catalog pattern: 08_reporting/runs/<pipeline>.json


class RunRecordHooks:
    """After a successful run, saves ``<pipeline>_run`` for each pipeline it ran: the env, the
    finish time, runtime parameters and the pipeline's own parameter block as resolved."""

    def __init__(self, default_env: str) -> None:
        self.default_env = default_env  # what a run without --env uses

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], run_result: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        parameters = catalog.load("parameters")
        for name in run_params.get("pipeline_names") or ["__default__"]:
            block = parameters.get(name, {})
            record = {"pipeline": name, "env": run_params.get("env") or self.default_env, "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      "runtime_params": run_params.get("runtime_params") or {},
                      "parameters": block.model_dump(mode="json") if hasattr(block, "model_dump") else block}  # fmt: skip
            # made plain before saving, so that a value JSON cannot hold fails here, not half-way through the file
            catalog.save(RECORD.format(pipeline=name), json.loads(json.dumps(record, default=_plain)))


def _plain(value: Any) -> Any:
    """Dataclasses inside parameter blocks as dicts; anything else as its text."""
    return asdict(value) if is_dataclass(value) else str(value)
