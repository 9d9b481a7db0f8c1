"""Published cell models as embed models (:mod:`cell_dino.encoders.published`): each registered
model is a namespace of the chain (:data:`cell_dino.registry.PUBLISHED_MODELS`), configured under
``embed.published.<model>``. Nothing is downloaded: without a local ``weights`` file the model is
skipped (an embedding with no items, logged), and every metric downstream is undefined."""

from __future__ import annotations

from dataclasses import field
from pathlib import Path

from cell_dino.core.config import settings
from cell_dino.core.generation import file_identity
from cell_dino.core.runtime import Precision
from cell_dino.data.channels import channel_order
from cell_dino.data.items import Items, Unit
from cell_dino.embed.embedding_job import EmbeddingJob
from cell_dino.embed.file_model import file_model_job, skipped_job
from cell_dino.embed.model import FeatureConfig, FeatureExtractor


def parameter(name: str, key: str = "weights") -> str:
    """The parameter that configures published model ``name`` (errors name it)."""
    return f"embed.published.{name}.{key}"


@settings
class PublishedConfig:
    """One published model's settings: its weights file, the channels it was trained on (by name, in
    its input order), how the data's channels are called, and what it embeds."""

    weights: str | None = None  # a local weights file (README: "Published cell models"); None: skipped
    channels: tuple[str, ...] | None = None  # the model's input channels, in its order; None: a bag-of-channels
    # model (MorphEm, OpenPhenom, Cell-DINO's channel-adaptive ViT) takes every data channel, in the data's order
    channel_map: dict[str, str] = field(default_factory=dict)  # {model channel: data channel}
    unit: Unit = "cell"  # cell: the crop store's cells | fov: whole fields


def published_extractor(name: str, config: PublishedConfig, items: Items, features: FeatureConfig) -> FeatureExtractor:
    """The network of published model ``name`` from ``config.weights``, fed the items' channels by
    name (``config.channels`` through ``config.channel_map``; a bag-of-channels model without declared
    channels: every data channel). Raises ValueError naming the parameter: the file absent or of
    another layout, channels missing from the data, or a fixed-channel model whose channels are not
    declared."""
    from cell_dino.encoders.published import load_published

    data = tuple(items.channels.names)
    encoder = load_published(name, config.weights, config.channels or data, parameter(name), items.unit)
    if config.channels is None and encoder.meta.network["in_chans"] != 1:
        raise ValueError(
            f"{parameter(name, 'channels')}: {config.weights} takes {encoder.meta.network['in_chans']} channels in its own order: "
            f"name them (the data has {list(data)})"
        )
    extractor = FeatureExtractor.of(encoder, features)
    what = f"published model {name} ({parameter(name, 'channels')})"
    extractor.channels = channel_order(encoder.meta.channels, data, config.channel_map, what, parameter(name, "channel_map"))
    return extractor


def published_job(
    name: str, items: Items, config: PublishedConfig, features: FeatureConfig, batch_size: int, shard_size: int, device: str,
    precision: Precision,
) -> EmbeddingJob:
    """The job embedding every item (``N x C x H x W``) with published model ``name``: ``N x D``
    features as its authors' code computes them (a bag-of-channels model: ``D`` per channel,
    concatenated); with no ``config.weights``, a job of no items (``skipped`` says why)."""
    if config.weights is None:
        reason = f"no weights file: set {parameter(name)} to a local {name} weights file (README: Published cell models)"
        # no rows; one feature column, the network's width being unknown without its file (a table needs a feature)
        return skipped_job(name, reason, items, 1, batch_size, shard_size, device, precision)
    extractor = published_extractor(name, config, items, features)
    identity = {"published": name, "file": file_identity(str(Path(config.weights).expanduser()))}
    return file_model_job(extractor, items, identity, config, features, batch_size, shard_size, device, precision, published=name,
                          weights=config.weights)
