"""The encoder contract: what a model is to embed, whatever trained it.

An encoder is a network (``B x C x S x S`` prepared images -> ``B x D`` features, or timm ViT
tokens pooled as embed's ``features`` settings say), the channels it takes by name, and its
preprocessing (normalisation and side). Its saved form is method-neutral: an ``encoder`` entry
``{"meta": EncoderMeta, "weights": state dict}`` in a file; a training checkpoint holds the same
entry with ``weights`` naming the entry of the file that holds them and the key ``prefix`` they
carry there (DINO's teacher: ``{"weights": "teacher", "prefix": "backbone."}``), so that embed reads
a checkpoint of any method, or a model trained elsewhere, the same way.

A network kind is one entry of :data:`KINDS` (``vit``: the project's timm ViT); :func:`register_kind`
adds one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

import torch
import torch.nn as nn

from cell_dino.encoders.backbone import BackboneConfig, create_backbone
from cell_dino.encoders.preprocessing import Normalise, Preprocessing

ENTRY = "encoder"  # the entry of a checkpoint or weights file that describes its encoder
PUBLISHED_KIND = "published:"  # the kinds of cell_dino.encoders.published's models, registered when that package is imported


@dataclass(frozen=True)
class EncoderMeta:
    """What an encoder is, method-neutral: ``kind`` (a key of :data:`KINDS`) with its ``network``
    settings, the ``channels`` it takes (names, in its input order), the side ``size`` (px) and
    ``normalise`` mode its inputs get (``stats``: the data set's per-channel statistics, for
    ``dataset``), the ``unit`` it embeds (``cell``: single-cell crops, ``fov``: whole fields),
    ``source_channels``: the channels of the data it was trained among when it takes fewer (one
    model of a per-channel run, or the data a bag of channels was trained on), ``origin``: what made
    it (method, architecture, version: informative, never read to build it), and
    ``bag_of_channels``: a one-channel network that embeds every channel of any data set alone, its
    features concatenated in channel-name order (embed standardises each channel by the embedded data
    set's own statistics for ``normalise: dataset``)."""

    kind: str
    network: dict[str, Any]
    channels: tuple[str, ...]
    size: int
    normalise: Normalise
    stats: dict[str, Any] | None = None
    unit: str = "cell"
    source_channels: tuple[str, ...] | None = None
    origin: dict[str, Any] = field(default_factory=dict)
    bag_of_channels: bool = False

    def to_dict(self) -> dict[str, Any]:
        source = None if self.source_channels is None else list(self.source_channels)
        return {**dataclasses.asdict(self), "channels": list(self.channels), "source_channels": source}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> EncoderMeta:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        source = values.get("source_channels")
        return cls(**{**known, "channels": tuple(values["channels"]), "source_channels": None if source is None else tuple(source)})

    @property
    def preprocessing(self) -> Preprocessing:
        return Preprocessing.of(self.normalise, self.size, self.stats)


@dataclass(frozen=True)
class Kind:
    """How a network kind is built: ``build(network settings, input channels)`` -> a module at
    random initialisation (weights are loaded into it after). ``tokens``: a timm ViT, whose tokens
    embed pools as ``embed.features`` says (CLS, patch mean, last blocks' CLS) and whose attention
    it maps; otherwise ``network(x)`` is the ``B x D`` features themselves."""

    build: Callable[[Mapping[str, Any], int], nn.Module]
    tokens: bool = False


def _vit(network: Mapping[str, Any], in_chans: int) -> nn.Module:
    return create_backbone(BackboneConfig(**{**network, "drop_path_rate": 0.0}), in_chans)


KINDS: dict[str, Kind] = {"vit": Kind(_vit, tokens=True)}


def register_kind(name: str, kind: Kind) -> None:
    """Add a network kind (a new method's or a published model's architecture); raises ValueError
    for a name already taken."""
    if name in KINDS:
        raise ValueError(f"encoder kind {name!r} is registered already")
    KINDS[name] = kind


class Encoder(nn.Module):
    """A network with what it takes (``meta``): ``network`` (eval mode) and ``preprocessing``."""

    def __init__(self, meta: EncoderMeta, network: nn.Module) -> None:
        super().__init__()
        self.meta, self.network, self.preprocessing = meta, network.eval(), meta.preprocessing

    @property
    def tokens(self) -> bool:
        """Whether the network is a ViT whose tokens embed pools (see :class:`Kind`)."""
        return KINDS[self.meta.kind].tokens

    def state(self) -> dict[str, Any]:
        """The method-neutral saved form (the :data:`ENTRY` of a weights file)."""
        return {"meta": self.meta.to_dict(), "weights": self.network.state_dict()}


def encoder_weights(saved: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The network weights of a file holding an :data:`ENTRY`: its own, or those of the entry it
    names (``weights``), with its ``prefix`` removed."""
    entry = saved[ENTRY]
    if isinstance(entry["weights"], str):
        prefix = entry.get("prefix", "")
        return {k.removeprefix(prefix): v for k, v in saved[entry["weights"]].items() if k.startswith(prefix)}
    return dict(entry["weights"])


def load_encoder(saved: Mapping[str, Any], random_init: bool = False, seed: int = 0, source: str = "the file") -> Encoder:
    """The encoder of ``saved`` (a loaded checkpoint or weights file with an :data:`ENTRY`), or its
    architecture at random initialisation (seeded: the random-init twin). Raises KeyError naming
    ``source`` when it holds no encoder, ValueError for an unknown kind or weights of another layout."""
    if ENTRY not in saved:
        raise KeyError(f"{source}: no {ENTRY!r} entry (not an encoder file or checkpoint of this project)")
    meta = EncoderMeta.from_dict(saved[ENTRY]["meta"])
    if meta.kind.startswith(PUBLISHED_KIND):
        import_module("cell_dino.encoders.published")
    if meta.kind not in KINDS:
        raise ValueError(f"{source}: encoder kind {meta.kind!r} is not registered; known: {sorted(KINDS)}")
    torch.manual_seed(seed)
    network = KINDS[meta.kind].build(meta.network, len(meta.channels))
    if not random_init:
        try:
            network.load_state_dict(encoder_weights(saved))
        except RuntimeError as error:
            raise ValueError(f"{source}: weights of another layout than a {meta.kind} network ({error})") from error
    return Encoder(meta, network)
