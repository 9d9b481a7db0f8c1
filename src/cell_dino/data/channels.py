"""The channel spec: the ordered channel names that travel with images, stores and checkpoints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


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
