"""The channel spec (the ordered channel names) and the per-channel intensity statistics, which
travel together with images, stores and checkpoints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class ChannelSpec:
    """Ordered, unique channel names, e.g. ``ChannelSpec(("DNA", "Tubulin", "Actin"))``."""

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.names:
            raise ValueError("a channel spec needs at least one channel")
        duplicated = sorted({n for n in self.names if self.names.count(n) > 1})
        if duplicated:
            raise ValueError(f"channel names must be unique, repeated: {duplicated}")
        bad = [n for n in self.names if not n.isidentifier()]
        if bad:
            raise ValueError(f"channel names must be identifiers (letters, digits, _): {bad}")

    @classmethod
    def of(cls, names: Iterable[str]) -> ChannelSpec:
        return cls(tuple(names))

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self):
        return iter(self.names)

    def require_same(self, other: Sequence[str] | ChannelSpec, context: str) -> None:
        """Raise if ``other`` lists other channels or another order; names both lists."""
        other_names = tuple(other.names if isinstance(other, ChannelSpec) else other)
        if other_names != self.names:
            raise ValueError(
                f"channel mismatch in {context}: expected {list(self.names)}, got {list(other_names)}"
            )


@dataclass(frozen=True)
class ChannelStats:
    """Per-channel statistics of preprocessed intensities, lists in channel order: exact mean and
    standard deviation, percentiles of a uniform pixel sample; ``n_pixels`` per channel."""

    channels: list[str]
    mean: list[float]
    std: list[float]
    p01: list[float]
    p50: list[float]
    p99: list[float]
    p999: list[float]
    n_pixels: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ChannelStats:
        return cls(**{f.name: values[f.name] for f in fields(cls)})

    def select(self, name: str) -> ChannelStats:
        """The statistics of one channel."""
        c = self.channels.index(name)
        per_channel = {f.name: [getattr(self, f.name)[c]] for f in fields(self) if f.name not in ("channels", "n_pixels")}
        return ChannelStats(channels=[name], n_pixels=self.n_pixels, **per_channel)
