"""Feature extractors: the encoder of a checkpoint (DINO's teacher backbone), a random-init network,
the per-channel greyscale-to-RGB baseline, and several per-channel models concatenated.

Every extractor takes raw batches (``B x C x H x W``, float) and prepares them as in training:
normalisation (per image or with the checkpoint's dataset statistics), then resizing to the
training global-crop size; for whole fields, the WS-DINO test-time crops (the four native crops of
the training size that tile the field's centre, 4 x 224 x 224 from the centre 448 x 448 of a
BBBC021 field; or the four quadrants, for fields many times the crop size) with the median of
their features.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from cell_dino.core.config import settings
from cell_dino.data.channels import ChannelStats, channel_order
from cell_dino.encoders.backbone import BackboneConfig
from cell_dino.encoders.encoder import ENTRY, KINDS, Encoder, EncoderMeta, load_encoder
from cell_dino.encoders.preprocessing import Preprocessing

Pooling = Literal["cls", "patch_mean"]


@settings
class FeatureConfig:
    pooling: Pooling = "cls"
    # blocks (0-based; negative: from the last) whose CLS tokens after the final norm are the features, one block of
    # columns each, in block order, each scored as a model of its own in the ladder (e.g. [-4, -3, -2, -1]: the last
    # four; Phenom-2: intermediate blocks often profile better); None: the pooling of the last block's tokens
    layers: tuple[int, ...] | None = None
    test_time_crops: bool = False  # WS-DINO: median over the 4 centre crops
    test_time_crop_side: Literal["native", "half"] = "native"  # native: the training crop size (WS-DINO) | half: half the field's sides

    def __post_init__(self) -> None:
        if self.layers is not None and (not self.layers or len(set(self.layers)) != len(self.layers)):
            raise ValueError(f"embed.features.layers: name each block once, got {list(self.layers)}")
        if self.layers is not None and self.pooling != "cls":
            raise ValueError(f"embed.features.layers takes each block's CLS token: pooling must be cls, got {self.pooling!r}")


def block_indices(layers: Sequence[int], depth: int) -> list[int]:
    """The blocks ``layers`` names (negative from the last) of a ``depth``-block ViT, 0-based, in
    block order; raises ValueError naming ``embed.features.layers`` for a block it does not have."""
    outside = [i for i in layers if not -depth <= i < depth]
    if outside:
        raise ValueError(f"embed.features.layers {list(layers)}: block(s) {outside} outside a network of {depth} blocks")
    blocks = [i % depth for i in layers]
    if len(set(blocks)) != len(blocks):
        raise ValueError(f"embed.features.layers {list(layers)} names a block twice in a network of {depth} blocks (blocks {blocks})")
    return sorted(blocks)


def layer_major(parts: Sequence[torch.Tensor], n_layers: int) -> torch.Tensor:
    """Features of several models (or channels), each ``B x L D_i`` (``L`` = ``n_layers`` blocks of
    ``D_i``), as ``B x L sum(D_i)``: layer by layer, each layer's models side by side, so that
    every layer is one consecutive block of columns."""
    return torch.cat([chunk for layer in zip(*(p.chunk(n_layers, dim=1) for p in parts), strict=True) for chunk in layer], dim=1)


def centre_crops(x: torch.Tensor, size: int, side: Literal["native", "half"] = "native") -> torch.Tensor:
    """The four crops that meet at the centre of ``B x C x H x W`` fields, ``4 x B x C x h x w``:
    ``native``: squares of ``min(size, H // 2, W // 2)`` (the native ``size`` crops tiling the centre
    ``2 size x 2 size`` where the field is large enough, else the largest that fit); ``half``: the
    four quadrants (``H // 2 x W // 2``). Crops of another size than ``size`` are resized later."""
    h, w = (x.shape[-2] // 2, x.shape[-1] // 2) if side == "half" else (min(size, x.shape[-2] // 2, x.shape[-1] // 2),) * 2
    top, left = x.shape[-2] // 2 - h, x.shape[-1] // 2 - w
    corners = [(top, left), (top, left + w), (top + h, left), (top + h, left + w)]
    return torch.stack([x[..., i : i + h, j : j + w] for i, j in corners])


def pooled(backbone: nn.Module, x: torch.Tensor, config: FeatureConfig, tokens: bool = True) -> torch.Tensor:
    """Image features of a timm ViT after its final norm, pooled as ``config`` says (``tokens``):
    with ``config.layers``, the CLS token of each of those blocks, in block order; a network of
    another kind returns its features itself, one layer (``config.pooling`` must be ``cls``, the
    default: the other poolings are of a ViT's tokens)."""
    if not tokens:
        if config.pooling != "cls":
            raise ValueError(f"embed.features.pooling {config.pooling!r} pools a ViT's tokens; this network gives its features itself")
        return backbone(x)
    if config.layers is not None:
        indices = block_indices(config.layers, len(backbone.blocks))
        blocks = backbone.forward_intermediates(x, indices=indices, norm=True, return_prefix_tokens=True, output_fmt="NLC", intermediates_only=True)
        return torch.cat([prefix[:, 0] for _, prefix in blocks], dim=1)
    tokens = backbone.forward_features(x)
    if config.pooling == "patch_mean":
        return tokens[:, backbone.num_prefix_tokens :].mean(dim=1)
    return tokens[:, 0]


class FeatureExtractor(nn.Module):
    """A backbone with its preprocessing; ``channels`` selects input channels (per-channel models),
    ``greyscale_rgb`` repeats each selected channel to 3 channels for an RGB network; ``tokens``:
    a ViT whose tokens are pooled (:func:`pooled`), else the network gives features itself."""

    def __init__(
        self,
        backbone: nn.Module,
        preprocessing: Preprocessing,
        config: FeatureConfig,
        channels: Sequence[int] | None = None,
        greyscale_rgb: bool = False,
        tokens: bool = True,
    ) -> None:
        super().__init__()
        self.backbone, self.preprocessing, self.config = backbone.eval(), preprocessing, config
        self.channels, self.greyscale_rgb, self.tokens = channels, greyscale_rgb, tokens

    @property
    def layer_names(self) -> list[str]:
        """The layers its features hold, in column order (``block<i>``, 0-based), with
        ``features.layers`` on a ViT; [] otherwise (one layer)."""
        if self.config.layers is None or not self.tokens:
            return []
        return [f"block{i}" for i in block_indices(self.config.layers, len(self.backbone.blocks))]

    @classmethod
    def of(cls, encoder: Encoder, config: FeatureConfig, channels: Sequence[int] | None = None, greyscale_rgb: bool = False) -> FeatureExtractor:
        """An :class:`~cell_dino.encoders.encoder.Encoder` with embed's feature settings."""
        return cls(encoder.network, encoder.preprocessing, config, channels, greyscale_rgb, encoder.tokens)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels is not None:
            x = x[:, list(self.channels)]
        x = self.preprocessing(x.float())  # integer pixels (uint8, uint16) as numbers before they are resized
        if self.greyscale_rgb:
            grey = [x[:, c : c + 1].expand(-1, 3, -1, -1) for c in range(x.shape[1])]
            return layer_major([pooled(self.backbone, g, self.config, self.tokens) for g in grey], max(1, len(self.layer_names)))
        return pooled(self.backbone, x, self.config, self.tokens)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"images must be B x C x H x W, got shape {tuple(x.shape)}")
        if not self.config.test_time_crops:
            return self._features(x).float()
        crops = centre_crops(x, self.preprocessing.size, self.config.test_time_crop_side)
        return torch.stack([self._features(c).float() for c in crops]).median(dim=0).values


class ConcatenatedExtractors(nn.Module):
    """Models that each see one channel: their features concatenated, then L2-normalised (per-channel
    models, WS-DINO; with several layers, each layer's block on its own) or not (``unit_norm`` False:
    one bag-of-channels network fed each channel, as MorphEm's features are)."""

    def __init__(self, extractors: Sequence[FeatureExtractor], unit_norm: bool = True) -> None:
        super().__init__()
        self.extractors, self.unit_norm = nn.ModuleList(extractors), unit_norm

    @property
    def layer_names(self) -> list[str]:
        """The layers each model's features hold (the same for all: one network, or one architecture)."""
        return self.extractors[0].layer_names

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n_layers = max(1, len(self.layer_names))
        features = layer_major([e(x) for e in self.extractors], n_layers)  # each layer one block of columns
        return torch.cat([F.normalize(layer, dim=1) for layer in features.chunk(n_layers, dim=1)], dim=1) if self.unit_norm else features


def bag_extractor(
    encoder: Encoder, config: FeatureConfig, data_channels: Sequence[str], data_stats: ChannelStats | None,
    channel_map: Mapping[str, str] | None = None,
) -> ConcatenatedExtractors:
    """A bag-of-channels network (:attr:`EncoderMeta.bag_of_channels`) fed every channel of the data
    alone, in channel-name order (a data channel named in ``channel_map``'s values sorts under the
    model-side name it maps from), ``B x C D`` features, not renormalised; for ``normalise: dataset``
    each channel standardised by ``data_stats``, the embedded data set's own statistics, as training
    standardised its channels (raises ValueError without them, or naming a channel without spread)."""
    meta = encoder.meta
    if meta.normalise == "dataset" and data_stats is None:
        raise ValueError("a bag-of-channels network trained with normalise: dataset needs the data set's channel statistics")
    lacking = [c for c in data_channels if meta.normalise == "dataset" and c not in data_stats.channels]
    if lacking:
        raise ValueError(f"the data set's channel statistics (channels {list(data_stats.channels)}) lack {lacking}: ingest them again")
    named = {data: model for model, data in (channel_map or {}).items()}
    extractors = []
    for name in sorted(data_channels, key=lambda data: named.get(data, data)):
        preprocessing = Preprocessing.of("dataset", meta.size, data_stats.select(name).as_dict()) if meta.normalise == "dataset" else encoder.preprocessing
        extractors.append(FeatureExtractor(encoder.network, preprocessing, config, [list(data_channels).index(name)], tokens=encoder.tokens))
    return ConcatenatedExtractors(extractors, unit_norm=False)


def checkpoint_extractor(
    state: dict,
    config: FeatureConfig,
    random_init: bool = False,
    seed: int = 0,
    data_channels: Sequence[str] | None = None,
    channel_map: Mapping[str, str] | None = None,
    data_stats: ChannelStats | None = None,
) -> FeatureExtractor | ConcatenatedExtractors:
    """The encoder of a checkpoint (:mod:`cell_dino.encoders.encoder`: the teacher's backbone for
    DINO), or the same architecture at random init, fed the channels it was trained on picked by
    name from ``data_channels`` (the images' channels, in their order; None: the checkpoint's own,
    in its order), with ``channel_map`` for stains named otherwise
    (:func:`cell_dino.data.channels.channel_order`: raises naming both lists when one is missing);
    a bag-of-channels network takes every data channel (:func:`bag_extractor`, with ``data_stats``,
    the images' channel statistics)."""
    encoder = load_encoder(state, random_init, seed)
    meta = encoder.meta
    data = meta.source_channels or meta.channels if data_channels is None else tuple(data_channels)
    if meta.bag_of_channels:
        return bag_extractor(encoder, config, data, data_stats, channel_map)
    extractor = FeatureExtractor.of(encoder, config)
    what = f"the checkpoint's network ({meta.network.get('arch', meta.kind)})"
    extractor.channels = channel_order(meta.channels, data, channel_map, what)  # a per-channel run's model: its one channel
    return extractor


def run_extractor(
    states: list[dict],
    config: FeatureConfig,
    random_init: bool = False,
    seed: int = 0,
    data_channels: Sequence[str] | None = None,
    channel_map: Mapping[str, str] | None = None,
    data_stats: ChannelStats | None = None,
) -> nn.Module:
    """The extractor of a run's checkpoint(s): one N-channel teacher, one bag-of-channels teacher fed
    each data channel (``data_stats``: their statistics), or per-channel teachers (each fed its own
    channel of the data, by name), concatenated and L2-normalised."""
    if len(states) == 1:
        return checkpoint_extractor(states[0], config, random_init, seed, data_channels, channel_map, data_stats)
    # one model per channel: names and map checked once for the whole run, then each model gets its own entry
    models = [EncoderMeta.from_dict(s[ENTRY]["meta"]).channels[0] for s in states]
    if data_channels is not None:
        channel_order(models, data_channels, channel_map, "the run (one model per channel)")
    own = dict(channel_map or {})
    return ConcatenatedExtractors(
        [
            checkpoint_extractor(
                s, config, random_init=random_init, seed=seed + i, data_channels=data_channels,
                channel_map={name: own[name]} if name in own else None,
            )
            for i, (s, name) in enumerate(zip(states, models, strict=True))
        ]
    )


def greyscale_rgb_extractor(
    weights: str, backbone: BackboneConfig, size: int, config: FeatureConfig, parameter: str = "train.init"
) -> FeatureExtractor:
    """The papers' ImageNet baseline: each channel, self-normalised, repeated to RGB through a
    3-channel ViT with RGB DINO ``weights`` (a local file, or ``timm:<name>``; errors name ``parameter``);
    features concatenated. The network is an :class:`~cell_dino.encoders.encoder.Encoder` taking
    ``red, green, blue`` that every channel is fed to in turn."""
    from cell_dino.encoders.pretrained import load_rgb_weights

    network = dataclasses.asdict(backbone)
    meta = EncoderMeta("vit", network, ("red", "green", "blue"), size, "self", origin={"method": "imagenet", "weights": weights})
    encoder = Encoder(meta, KINDS["vit"].build(network, 3))
    load_rgb_weights(encoder.network, weights, parameter)
    return FeatureExtractor.of(encoder, config, greyscale_rgb=True)
