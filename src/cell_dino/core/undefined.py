"""Results that the data cannot support: a metric or a step that needs more rows, groups, batches
or controls than it was given is *undefined*, never a number that only looks like one.

Library functions raise :class:`Undefined` with the reason (what was needed, what was there);
nodes run each result through :func:`attempt`, which logs the reason, records it under the
result's name and lets every other result be computed and written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Undefined(ValueError):
    """The data cannot support this result; ``str(error)`` says what was needed and what was there."""


def require(condition: bool, reason: str) -> None:
    """Raise :class:`Undefined` with ``reason`` unless ``condition`` holds."""
    if not condition:
        raise Undefined(reason)


def needs(columns: Iterable[str], needed: Iterable[str], what: str) -> None:
    """Raise :class:`Undefined` when a table (its ``columns``) lacks a column ``what`` needs."""
    present = set(columns)
    missing = [c for c in needed if c not in present]
    require(not missing, f"{what} needs the column(s) {missing}, which the profiles do not have")


def attempt(name: str, compute: Callable[[], T], undefined: dict[str, str]) -> T | None:
    """``compute()``; if the data cannot support it, ``None``, with the reason in ``undefined[name]``."""
    try:
        return compute()
    except Undefined as reason:
        log.warning("%s not computed: %s", name, reason)
        undefined[name] = str(reason)
        return None
