"""Kedro dataset for the Optuna study storage of the sweep: an RDB URL (SQLite under the data root
by default, or any database Optuna supports) whose password comes from Kedro credentials
(``credentials.yml``, where ``${oc.env:VAR}`` reads an environment variable), never from the URL
kept in parameters, logs or records."""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset
from optuna.storages import RDBStorage
from sqlalchemy.engine import make_url

from cell_dino.core.secrets import redact_text
from cell_dino.sweep.study import storage


def storage_url(url: str, credentials: dict[str, Any] | None) -> str:
    """``url`` with the user name and password of ``credentials`` (keys ``username``, ``password``) set."""
    if not credentials:
        return url
    unknown = set(credentials) - {"username", "password"}
    if unknown:
        raise ValueError(f"optuna storage credentials take 'username' and 'password', not {sorted(unknown)}")
    parsed = make_url(url).set(**{k: v for k, v in credentials.items() if v is not None})
    return parsed.render_as_string(hide_password=False)


class OptunaStorageDataset(AbstractDataset):
    """Loads the :class:`optuna.storages.RDBStorage` at ``url`` (with heartbeats, see
    :func:`cell_dino.sweep.study.storage`); read-only."""

    def __init__(self, url: str, credentials: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None) -> None:
        self._url, self._credentials, self.metadata = url, credentials, metadata

    def _load(self) -> RDBStorage:
        return storage(storage_url(self._url, self._credentials))

    def _save(self, data: Any) -> None:
        raise NotImplementedError("the study storage is read: run_sweep adds trials to it")

    def _describe(self) -> dict[str, Any]:
        return {"url": redact_text(self._url), "credentials": "given" if self._credentials else "none"}
