"""Errors a user can act on, and how ``kedro run`` and ``cell-dino`` show them.

An expected error (bad input data naming its file, row, column or channel; a refused parameter; a
checkpoint that cannot be read; a run already writing the data root; an input not there) ends the
command with its message in a line or two and exit status 1; Kedro wraps errors raised while a
dataset loads or saves, so the chain of causes is searched. Any other exception is a fault of the
program and keeps its whole traceback.
"""

from __future__ import annotations

from typing import Any

import click
from pydantic import ValidationError

from cell_dino.data.errors import DataError
from cell_dino.publication import RunInProgress

# Kedro's ParameterValidationError (typed node parameters refused) is matched by name: importing
# kedro here would make it log into `cell-dino score`'s output
EXPECTED: tuple[type[BaseException], ...] = (DataError, ValidationError, RunInProgress, FileNotFoundError, FileExistsError)
EXPECTED_NAMES = ("ParameterValidationError", "CheckpointError")
NOISE = ("For further information visit", "https://errors.pydantic.dev")


def expected_cause(error: BaseException) -> BaseException | None:
    """The first expected error in ``error``'s chain of explicit causes (``raise ... from``: itself
    first, then what Kedro's dataset errors wrap), or None. An error raised while another was being
    handled is not caused by it: a fault then keeps its traceback."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, EXPECTED) or type(current).__name__ in EXPECTED_NAMES:
            return current
        seen.add(id(current))
        current = current.__cause__
    return None


def short_message(error: BaseException) -> str:
    """``error`` as the user reads it: its kind and message, without links to documentation."""
    lines = [line for line in str(error).splitlines() if line.strip() and not line.strip().startswith(NOISE)]
    return f"{type(error).__name__}: " + "\n".join(lines)


class ReadableErrors(click.Command):
    """A click command whose expected errors end it as ``Error: <kind>: <message>`` (exit 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            cause = expected_cause(error)
            if cause is None:
                raise
            raise click.ClickException(short_message(cause)) from None


class ReadableGroup(click.Group):
    """A click group whose commands show expected errors as :class:`ReadableErrors` do."""

    command_class = ReadableErrors


def readable(command: click.Command, cls: type[ReadableErrors] = ReadableErrors) -> ReadableErrors:
    """A copy of ``command`` (Kedro's ``run``) as ``cls``: expected errors in a line or two."""
    return cls(
        name=command.name,
        params=command.params,
        callback=command.callback,
        help=command.help,
        short_help=command.short_help,
        context_settings=command.context_settings,
        epilog=command.epilog,
    )
