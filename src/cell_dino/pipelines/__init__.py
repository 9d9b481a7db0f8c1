"""The Kedro layer: one package per pipeline (``params.py`` typed parameters, ``nodes.py`` glue over
the library, ``pipeline.py`` the wiring)."""

from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any


def bound(function: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    """``function`` with some arguments fixed, keeping its name and docstring (for a node)."""
    return update_wrapper(partial(function, **kwargs), function)
