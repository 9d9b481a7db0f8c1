"""Typed configuration: frozen dataclasses validated when they are made (pydantic), so a parameter
out of its range or a misspelt key fails before any work, naming the parameter; and the ranges
the configurations share."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

settings = partial(dataclass, frozen=True, config=ConfigDict(extra="forbid"))

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]
Fraction = Annotated[float, Field(gt=0, le=1)]  # a share of something: above 0, at most all of it
Count = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]


def ordered_pair(name: str, pair: tuple[float, float]) -> None:
    """Raise naming ``name`` unless ``pair`` is ``(low, high)`` with low <= high."""
    if pair[0] > pair[1]:
        raise ValueError(f"{name} must be (low, high) with low <= high, got {list(pair)}")
