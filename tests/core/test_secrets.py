"""Passwords never reach logs, records or pages: URLs and secret-named keys are redacted; the
sweep's database password comes from Kedro credentials, not from parameters."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy.engine import make_url

from cell_dino.core.secrets import redact, redact_text
from cell_dino.datasets.optuna_study import OptunaStorageDataset, storage_url
from cell_dino.sweep.study import described


def test_passwords_in_urls_and_secret_keys_are_hidden() -> None:
    record = {
        "storage": "postgresql://user:s3cret@db.example:5432/optuna",
        "nested": [{"password": "s3cret", "n": 3}],
        "api_token": "abc",
        "plain": "sqlite:///data/optuna.db",
        "user_only": "postgresql://user@host/db",
    }
    assert redact(record) == {
        "storage": "postgresql://user:***@db.example:5432/optuna",
        "nested": [{"password": "***", "n": 3}],
        "api_token": "***",
        "plain": "sqlite:///data/optuna.db",
        "user_only": "postgresql://user@host/db",
    }
    assert "s3cret" not in redact_text("connect to mysql+pymysql://a:s3cret@h/d and redis://:s3cret@h:6379")


def test_the_storage_password_comes_from_credentials_and_is_never_described() -> None:
    assert storage_url("postgresql://user@host/optuna", {"password": "s3cret"}) == "postgresql://user:s3cret@host/optuna"
    assert storage_url("postgresql://host/optuna", {"username": "u", "password": "p"}) == "postgresql://u:p@host/optuna"
    with pytest.raises(ValueError, match="not \\['host'\\]"):
        storage_url("postgresql://host/optuna", {"host": "x"})
    dataset = OptunaStorageDataset("postgresql://user:inline@host/optuna", credentials={"password": "s3cret"})
    assert "s3cret" not in str(dataset._describe()) and "inline" not in str(dataset._describe())
    assert (
        described(SimpleNamespace(engine=SimpleNamespace(url=make_url("postgresql://user:s3cret@host/optuna"))))
        == "postgresql://user:***@host/optuna"
    )
