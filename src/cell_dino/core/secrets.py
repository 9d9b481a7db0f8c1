"""Keeping secrets out of logs, records and pages: the password of a URL
(``postgresql://user:pw@host/db``, also when it holds ``/`` or ``@``), secret query parameters
(``?password=...``) and the values of keys that name a secret are replaced by ``***``."""

from __future__ import annotations

import re
from typing import Any

HIDDEN = "***"
# scheme://user:password@host: the password runs to the last "@" before the host (as SQLAlchemy reads it)
URL_PASSWORD = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:@/\s'\"]*):(?P<password>[^\s'\"]*)@(?P<host>[^@\s'\"]*)(?=[\s'\",)}\]]|$)"
)
QUERY_SECRET = re.compile(
    r"(?P<key>[?&;](?:password|passwd|pwd|pass|pw|secret|token|auth|api_?key|key|access_key|secret_key)=)[^&\s'\"]*", re.IGNORECASE
)
SECRET_KEY = re.compile(r"^(?:pw|pwd|pass|auth|key)$|pass(?:word|wd)|secret|token|api[_-]?key|credential|access[_-]?key", re.IGNORECASE)


def redact_text(text: str) -> str:
    """``text`` with the password of every URL in it, and secret query parameters, hidden."""
    text = URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{HIDDEN}@{m['host']}", text)
    return QUERY_SECRET.sub(lambda m: f"{m['key']}{HIDDEN}", text)


def redact(value: Any) -> Any:
    """A copy of a record (dicts, lists, strings) with URL passwords, secret query parameters and
    the values of secret-named keys hidden."""
    if isinstance(value, dict):
        return {k: HIDDEN if isinstance(k, str) and SECRET_KEY.search(k) and v is not None else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
