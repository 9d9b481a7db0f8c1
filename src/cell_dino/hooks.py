"""Kedro hooks: one run at a time per data root with its outputs published together
(:mod:`cell_dino.publication`), and a record of each finished run (pipelines, env, time, the
parameters it used, secrets hidden)."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.framework.project import pipelines

from cell_dino.core.secrets import redact
from cell_dino.publication import DataRootLock, Journal, is_main_process

RECORD = "{pipeline}_run"  # catalog pattern: 08_reporting/runs/<pipeline>.json
DEFAULT_DATA_ROOT = "data"


class RunRecordHooks:
    """After a successful run, saves ``<pipeline>_run`` for each pipeline it ran: the env, the
    finish time, runtime parameters, the namespaces it was limited to, and the parameter blocks the
    pipeline's nodes (in those namespaces) read, as resolved (``{block: values}``), with passwords and
    other secrets hidden."""

    def __init__(self, default_env: str) -> None:
        self.default_env = default_env  # what a run without --env uses

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], run_result: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        if not is_main_process():
            return
        parameters = catalog.load("parameters")
        namespaces = run_params.get("namespaces") or None
        for name in run_params.get("pipeline_names") or ["__default__"]:
            blocks = {block: parameters.get(block, {}) for block in _parameter_blocks(name, namespaces)}
            record = {
                "pipeline": name,
                "env": run_params.get("env") or self.default_env,
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "runtime_params": run_params.get("runtime_params") or {},
                "namespaces": namespaces,  # None: every namespace ran
                "parameters": {k: b.model_dump(mode="json") if hasattr(b, "model_dump") else b for k, b in blocks.items()},
            }
            # made plain before saving, so that a value JSON cannot hold fails here, not half-way through the file
            catalog.save(RECORD.format(pipeline=name), redact(json.loads(json.dumps(record, default=_plain))))


def _parameter_blocks(pipeline: str, namespaces: list[str] | None) -> list[str]:
    """The parameter blocks the registered ``pipeline``'s nodes read (of ``namespaces`` only, when
    given): the same for each part of a run split into several sessions (training, then reports)."""
    nodes = pipelines[pipeline].only_nodes_with_namespaces(namespaces) if namespaces else pipelines[pipeline]
    return sorted({name.removeprefix("params:").split(".")[0] for name in nodes.inputs() if name.startswith("params:")})


def _plain(value: Any) -> Any:
    """Dataclasses inside parameter blocks as dicts; anything else as its text."""
    return asdict(value) if is_dataclass(value) else str(value)


class PublicationHooks:
    """Holds the data root's lock for the run and journals every output it replaces: published
    together when the run succeeds, rolled back together when it fails. Outputs of datasets
    marked ``resumable`` (training checkpoints, which resume from what they hold) are left as
    they are."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.lock: DataRootLock | None = None
        self.journal: Journal | None = None
        self.catalog: Any = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        data_root = context.config_loader["globals"].get("data_root", DEFAULT_DATA_ROOT)
        self.root = (Path(context.project_path) / data_root).resolve()

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        if not is_main_process():  # under torchrun the main process holds the data root for all
            return
        names = ",".join(run_params.get("pipeline_names") or ["__default__"])
        self.lock = DataRootLock(self.root)
        self.lock.acquire(f"kedro run --pipeline {names} (env {run_params.get('env')})")
        Journal.recover(self.root)
        self.journal, self.catalog = Journal(self.root, run_params["run_id"].replace(":", "-")), catalog

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if self.journal is None:
            return
        dataset = self.catalog.get(dataset_name)
        described = dataset._describe() if dataset is not None else {}
        path = described.get("filepath") or described.get("path")
        if path is not None and "://" not in str(path) and not getattr(dataset, "resumable", False):
            self.journal.replace(Path(str(path)))  # relative paths are the project's, as Kedro runs there

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], run_result: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._finish(self.journal.commit if self.journal else None)

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._finish(self.journal.rollback if self.journal else None)

    def _finish(self, close: Any) -> None:
        try:
            if close is not None:
                close()
        finally:
            if self.lock is not None:
                self.lock.release()
            self.lock = self.journal = self.catalog = None
