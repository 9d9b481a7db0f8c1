"""Opening an Optuna study in durable storage: SQLite under the data root by default, any RDB URL
otherwise; resumable (a second run adds trials; a trial whose process died is retried once)."""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from sqlalchemy.engine import make_url

SQLITE = "sqlite"


def storage(url: str) -> RDBStorage:
    """RDB storage with heartbeats, so a killed trial is marked failed and retried."""
    parsed = make_url(url)
    if parsed.drivername.startswith(SQLITE) and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # heartbeats are marked experimental in Optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RDBStorage(url, heartbeat_interval=30, grace_period=120, heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1))


def open_study(name: str, rdb: RDBStorage, direction: str, seed: int, n_startup_trials: int, pruner_startup: int, pruner_warmup: int) -> optuna.Study:
    """Create or load ``name`` in ``rdb``. The TPE seed is offset by the trials already run, so a
    resumed study does not repeat its first random proposals."""
    existing = {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(rdb)}
    sampler = optuna.samplers.TPESampler(seed=seed + existing.get(name, 0), n_startup_trials=n_startup_trials)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=pruner_startup, n_warmup_steps=pruner_warmup)
    return optuna.create_study(study_name=name, storage=rdb, direction=direction, sampler=sampler, pruner=pruner, load_if_exists=True)


def described(rdb: RDBStorage) -> str:
    """Where a storage is, with any password hidden, for logs and records."""
    return rdb.engine.url.render_as_string(hide_password=True)
