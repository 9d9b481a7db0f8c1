"""One published model: how its weights file is read (the published state-dict layout into the
project's network and its settings) and how the network is built, and :func:`load_published`,
which gives an :class:`~cell_dino.encoders.encoder.Encoder` that embed uses like any other."""

from __future__ import annotations

import argparse
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
from safetensors.torch import load_file

from cell_dino.encoders.encoder import KINDS, PUBLISHED_KIND, Encoder, EncoderMeta, Kind

State = dict[str, torch.Tensor]
TORCH_FILES = (b"PK", b"\x80")  # torch.save's zip archive, or a legacy pickle (OpenPhenom's model.safetensors is one)


class LayoutError(ValueError):
    """A weights file of another layout than the model's (raised naming the parameter and the file)."""


@dataclass(frozen=True)
class PublishedModel:
    """``read(file contents)`` -> (network settings, weights in the network's own key layout),
    raising :class:`LayoutError` for another layout; ``build(settings, n_channels)`` -> the network
    (``B x C x S x S`` raw images -> ``B x D`` features, its own preprocessing included);
    ``size(settings)``: the input side (px) it was trained at. A network whose settings say
    ``in_chans: 1`` is a bag of channels: it takes any number of channels (``D`` features each,
    concatenated in input order)."""

    name: str
    read: Callable[[Mapping[str, Any]], tuple[dict[str, Any], State]]
    build: Callable[[Mapping[str, Any], int], nn.Module]
    size: Callable[[Mapping[str, Any]], int]


PUBLISHED: dict[str, PublishedModel] = {}


def register(model: PublishedModel) -> PublishedModel:
    """Add a published model (and its network kind ``published:<name>``, so that its saved encoder
    loads like any other); raises ValueError for a name already taken."""
    if model.name in PUBLISHED:
        raise ValueError(f"published model {model.name!r} is registered already")
    PUBLISHED[model.name] = model
    KINDS[kind_of(model.name)] = Kind(model.build)
    return model


def kind_of(name: str) -> str:
    return f"{PUBLISHED_KIND}{name}"


def strip(state: Mapping[str, torch.Tensor], prefixes: tuple[str, ...]) -> State:
    """The tensors of ``state``, any of ``prefixes`` removed from their keys' start (in order, each
    at most once); entries that are not tensors (an epoch, arguments) are left out."""
    out = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            continue
        for prefix in prefixes:
            key = key.removeprefix(prefix)
        out[key] = value
    return out


def require_keys(state: Mapping[str, Any], keys: tuple[str, ...], model: str) -> None:
    missing = [k for k in keys if k not in state]
    if missing:
        raise LayoutError(f"not a {model} weights file: {missing[0]!r} missing (keys start {sorted(state)[:4]})")


def read_weights_file(path: Path) -> Mapping[str, Any]:
    """A safetensors file or a torch file of tensors (a DINO training checkpoint's pickled
    ``argparse.Namespace`` is allowed; nothing else is unpickled)."""
    with path.open("rb") as handle:
        head = handle.read(2)
    if not head.startswith(TORCH_FILES):
        return load_file(path)
    with torch.serialization.safe_globals([argparse.Namespace]), path.open("rb") as handle:  # a handle: torch.load would
        return torch.load(handle, map_location="cpu", weights_only=True)  # read a *.safetensors path as safetensors


def _misfits(own: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor]) -> list[str]:
    """What keeps ``state`` from loading into a network of state ``own``: keys missing, keys
    unexpected, tensors of another shape (named)."""
    missing = [f"{k} missing" for k in own if k not in state]
    unexpected = [f"{k} unexpected" for k in state if k not in own]
    shapes = [f"{k} {tuple(v.shape)} (network {tuple(own[k].shape)})" for k, v in state.items() if k in own and v.shape != own[k].shape]
    return missing + unexpected + shapes


def load_published(name: str, weights: str | Path, channels: tuple[str, ...], parameter: str, unit: str = "cell") -> Encoder:
    """The encoder of published model ``name`` from its local ``weights`` file, taking ``channels``
    (names of the model's inputs, in its order). Raises ValueError naming ``parameter`` and the file:
    unknown model, absent or unreadable file, another layout, or a channel count the network does
    not take."""
    if name not in PUBLISHED:
        raise ValueError(f"{parameter}: no published model {name!r}; known: {sorted(PUBLISHED)}")
    model, path = PUBLISHED[name], Path(weights).expanduser()
    if not path.is_file():
        raise ValueError(f"{parameter}: weights file {path} {'is a directory' if path.is_dir() else 'not found'}")
    if not channels or len(set(channels)) != len(channels):
        raise ValueError(f"{parameter}: the channels must be named, each once; got {list(channels)}")
    try:
        saved = read_weights_file(path)
        network_settings, state = model.read(saved)
    except pickle.UnpicklingError:
        raise ValueError(f"{parameter}: {path} holds objects other than tensors (not unpickled): not a weights file") from None
    except LayoutError as error:
        raise ValueError(f"{parameter}: {path}: {error}; the file's entries start {sorted(saved)[:5]}") from None
    except KeyError as error:
        raise ValueError(f"{parameter}: {path}: not a {name} weights file: {error} missing") from None
    except Exception as error:  # noqa: BLE001 - any reading failure is the file's
        raise ValueError(f"{parameter}: {path} could not be read as weights ({type(error).__name__}: {str(error).splitlines()[0]})") from None
    taken = network_settings["in_chans"]
    if taken not in (1, len(channels)):
        raise ValueError(f"{parameter}: {path} takes {taken} channels; {len(channels)} are declared ({list(channels)})")
    meta = EncoderMeta(
        kind=kind_of(name),
        network=network_settings,
        channels=tuple(channels),
        size=model.size(network_settings),
        normalise="none",  # the network prepares its inputs as its authors' code does
        unit=unit,
        origin={"published": name, "file": path.name},
    )
    try:
        network = model.build(network_settings, len(channels))
    except ValueError as error:
        raise ValueError(f"{parameter}: {path}: {error}") from None
    misfits = _misfits(network.state_dict(), state)
    if misfits:
        raise ValueError(f"{parameter}: {path} does not fit a {name} network: {'; '.join(misfits[:3])}")
    network.load_state_dict(state)
    return Encoder(meta, network)
