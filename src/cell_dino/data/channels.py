"""The channel spec (the ordered channel names) and the per-channel intensity statistics, which
travel together with images, stores and checkpoints."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from cell_dino.data.errors import ChannelError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelSpec:
    """Ordered, unique channel names, e.g. ``ChannelSpec(("DNA", "Tubulin", "Actin"))``."""

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.names:
            raise ChannelError("a channel spec needs at least one channel")
        duplicated = sorted({n for n in self.names if self.names.count(n) > 1})
        if duplicated:
            raise ChannelError(f"channel names must be unique, repeated: {duplicated}")
        bad = [n for n in self.names if not n.isidentifier()]
        if bad:
            raise ChannelError(f"channel names must be identifiers (letters, digits, _): {bad}")

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
            raise ChannelError(
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

    def pooled(self, name: str, standardised: bool = False) -> ChannelStats:
        """The statistics of every channel's pixels taken together as one channel ``name`` (a bag of
        channels: each channel an image of its own); ``standardised``: of the channels each
        standardised by its own mean and standard deviation first (mean 0, std 1). Exact mean and
        standard deviation (each channel has ``n_pixels``); the percentiles are the channels' means."""
        mean, std = np.asarray(self.mean, dtype=float), np.asarray(self.std, dtype=float)
        shift, scale = (mean, np.where(std > 0, std, 1.0)) if standardised else (0.0, 1.0)
        centre = (mean - shift) / scale
        spread = std / scale
        pooled_mean = float(centre.mean())
        pooled_std = float(np.sqrt(np.mean(spread**2 + centre**2) - pooled_mean**2))
        quantiles = {q: [float(np.mean((np.asarray(getattr(self, q)) - shift) / scale))] for q in ("p01", "p50", "p99", "p999")}
        return ChannelStats(channels=[name], mean=[pooled_mean], std=[pooled_std], n_pixels=self.n_pixels * len(self.channels), **quantiles)


def channel_order(
    model: Sequence[str], data: Sequence[str], channel_map: Mapping[str, str] | None = None, what: str = "the model",
    parameter: str = "embed.channel_map",
) -> list[int]:
    """Where each of a network's input channels (``model``, in its order) is among the data's
    channels, matched by name, never by position: the indices that select and reorder the data for
    the network. ``channel_map`` (``{model channel: data channel}``) names a stain that another
    source calls otherwise (``{Tubulin: Microtubules}``). Another order is reordered (logged); data
    channels the network does not take are left out (logged). Raises ChannelError (a ValueError) naming both lists
    when a model channel is not in the data, or a ``channel_map`` key is not a model channel; the
    hint names ``parameter``, where the map is set."""
    mapping = dict(channel_map or {})
    unknown = sorted(set(mapping) - set(model))
    if unknown:
        raise ChannelError(f"{parameter} names {unknown}, which {what} does not take: its channels are {list(model)}")
    wanted = [mapping.get(name, name) for name in model]
    twice = sorted({w for w in wanted if wanted.count(w) > 1})
    if twice:
        raise ChannelError(f"{parameter} gives data channel(s) {twice} to more than one of {what}'s channels {list(model)}")
    missing = [f"{m}" + (f" (mapped to {w})" if w != m else "") for m, w in zip(model, wanted) if w not in data]
    if missing:
        raise ChannelError(
            f"{what} takes channels {list(model)}, the data has {list(data)}: {', '.join(missing)} not in the data "
            f"(name it with {parameter}: {{model channel: data channel}})"
        )
    order = [list(data).index(w) for w in wanted]
    if order != list(range(len(data))):
        log.info("%s takes channels %s: the data's %s, selected and reordered by name", what, list(model), [data[i] for i in order])
    return order
