"""Typed configuration: frozen dataclasses validated when they are made (pydantic), so a parameter
out of its range or a misspelt key fails before any work, naming the parameter; and the ranges
the configurations share."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field
from pydantic.dataclasses import dataclass

# allow_inf_nan: infinities and NaN are refused wherever a number is expected
settings = partial(dataclass, frozen=True, config=ConfigDict(extra="forbid", allow_inf_nan=False))


def _not_bool(value: Any) -> Any:
    """``lr: true`` is a mistake, not 1.0."""
    if isinstance(value, bool):
        raise ValueError(f"a number is expected, not {value}")
    return value


Number = BeforeValidator(_not_bool)
Positive = Annotated[float, Number, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Number, Field(ge=0, allow_inf_nan=False)]
Probability = Annotated[float, Number, Field(ge=0, le=1)]
Fraction = Annotated[float, Number, Field(gt=0, le=1)]  # a share of something: above 0, at most all of it
Count = Annotated[int, Number, Field(ge=1)]
NonNegativeInt = Annotated[int, Number, Field(ge=0)]
Device = Annotated[str, Field(pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")]  # auto: CUDA, else MPS, else CPU


def ordered_pair(name: str, pair: tuple[float, float]) -> None:
    """Raise naming ``name`` unless ``pair`` is ``(low, high)`` with low <= high."""
    if pair[0] > pair[1]:
        raise ValueError(f"{name} must be (low, high) with low <= high, got {list(pair)}")
