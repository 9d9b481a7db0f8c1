"""Opening an Optuna study in durable storage: SQLite under the data root by default, any RDB URL
otherwise; resumable (a second run adds trials; a trial whose process died is retried once)."""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna
import pandas as pd
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
        return RDBStorage(
            url, heartbeat_interval=30, grace_period=120, heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1)
        )


def open_study(
    name: str, rdb: RDBStorage, direction: str, seed: int, n_startup_trials: int, pruner_startup: int, pruner_warmup: int
) -> optuna.Study:
    """Create or load ``name`` in ``rdb``. The TPE seed is offset by the trials already run, so a
    resumed study does not repeat its first random proposals."""
    existing = {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(rdb)}
    sampler = optuna.samplers.TPESampler(seed=seed + existing.get(name, 0), n_startup_trials=n_startup_trials)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=pruner_startup, n_warmup_steps=pruner_warmup)
    return optuna.create_study(study_name=name, storage=rdb, direction=direction, sampler=sampler, pruner=pruner, load_if_exists=True)


def described(rdb: RDBStorage) -> str:
    """Where a storage is, with any password hidden, for logs and records."""
    return rdb.engine.url.render_as_string(hide_password=True)


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, value, parameters, timings (duration in seconds)."""
    table = study.trials_dataframe(attrs=("number", "value", "state", "params", "datetime_start", "datetime_complete", "duration"))
    if "duration" in table:
        table["duration"] = table["duration"].dt.total_seconds()
    return table


def completed_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def study_summary(study: optuna.Study) -> dict:
    """Trial counts by state, the best trial (None before one completes), the last run's time and
    the validation split."""
    completed = completed_trials(study)
    best = {"number": study.best_trial.number, "value": study.best_value, "params": study.best_trial.params} if completed else None
    return {
        "study": study.study_name,
        "trials_by_state": pd.Series([t.state.name for t in study.trials]).value_counts().to_dict(),
        "n_completed": len(completed),
        "best": best,
        "seconds_last_run": study.user_attrs.get("seconds_last_run"),
        "validation": study.user_attrs.get("validation"),
    }
