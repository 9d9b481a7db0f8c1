"""Keeping secrets out of logs, records and pages: passwords inside URLs
(``postgresql://user:pw@host/db``) and values of keys that name a secret are replaced by ``***``."""

from __future__ import annotations

import re
from typing import Any

HIDDEN = "***"
URL_PASSWORD = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@")
SECRET_KEY = re.compile(r"pass(word|wd)?|secret|token|api[_-]?key|credential", re.IGNORECASE)


def redact_text(text: str) -> str:
    """``text`` with the password of every URL in it hidden."""
    return URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{HIDDEN}@", text)


def redact(value: Any) -> Any:
    """A copy of a record (dicts, lists, strings) with URL passwords and secret-named keys hidden."""
    if isinstance(value, dict):
        return {k: HIDDEN if isinstance(k, str) and SECRET_KEY.search(k) and v is not None else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
