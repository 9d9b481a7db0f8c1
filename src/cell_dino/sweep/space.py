"""A search space over fields of :class:`~cell_dino.train.trainer.TrainConfig`, named by dotted
paths (``augment.brightness_p``; a trailing index picks a tuple element: ``augment.local_crops.scale.0``)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any, Literal

import optuna
from pydantic import BaseModel, ConfigDict, model_validator


class Dimension(BaseModel):
    """One searched parameter: a float or int range (optionally log-scaled) or a set of choices."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["float", "int", "categorical"] = "float"
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list[Any] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Dimension:
        if self.type == "categorical" and not self.choices:
            raise ValueError("a categorical dimension needs choices")
        if self.type != "categorical" and (self.low is None or self.high is None or self.low > self.high):
            raise ValueError(f"a {self.type} dimension needs low <= high, got {self.low}, {self.high}")
        return self

    def suggest(self, trial: optuna.Trial, name: str) -> Any:
        if self.type == "categorical":
            return trial.suggest_categorical(name, self.choices)
        if self.type == "int":
            return trial.suggest_int(name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(name, self.low, self.high, log=self.log)


def _set(config: Any, path: list[str], value: Any, full: str) -> Any:
    head, rest = path[0], path[1:]
    if isinstance(config, tuple):
        if not head.isdigit() or int(head) >= len(config) or rest:
            raise ValueError(f"sweep space: {full!r}: {head!r} is not an index of a {len(config)}-tuple")
        return tuple(value if i == int(head) else v for i, v in enumerate(config))
    if not is_dataclass(config) or head not in {f.name for f in fields(config)}:
        known = sorted(f.name for f in fields(config)) if is_dataclass(config) else []
        raise ValueError(f"sweep space: {full!r}: no field {head!r} here (known: {known})")
    current = getattr(config, head)
    return replace(config, **{head: _set(current, rest, value, full) if rest else value})


def apply(config: Any, values: dict[str, Any]) -> Any:
    """A copy of the config dataclass with each dotted path set to its value."""
    for path, value in values.items():
        config = _set(config, path.split("."), value, path)
    return config


def check_space(config: Any, space: dict[str, Dimension]) -> None:
    """Fail before any trial on a path that names no field."""
    for path, dimension in space.items():
        probe = dimension.choices[0] if dimension.type == "categorical" else dimension.low
        apply(config, {path: probe})


def suggest(trial: optuna.Trial, space: dict[str, Dimension]) -> dict[str, Any]:
    return {path: dimension.suggest(trial, path) for path, dimension in space.items()}


def _get(config: Any, path: list[str]) -> Any:
    for part in path:
        config = config[int(part)] if isinstance(config, tuple) else getattr(config, part)
    return config


def overrides(config: Any, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` applied to ``config`` as a nested parameter override; a tuple element's path
    gives the whole tuple (``scale: [0.4, 1.0]``), as a parameter file needs it."""
    applied = apply(config, values)
    flat: dict[str, Any] = {}
    for path in values:
        parts = path.split(".")
        if parts[-1].isdigit():
            parts = parts[:-1]
        value = _get(applied, parts)
        flat[".".join(parts)] = list(value) if isinstance(value, tuple) else value
    return nested(flat)


def nested(values: dict[str, Any]) -> dict[str, Any]:
    """Dotted paths to nested dicts."""
    out: dict[str, Any] = {}
    for path, value in values.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out
