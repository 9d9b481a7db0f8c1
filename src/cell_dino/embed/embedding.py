"""Embedding a trained run's items: the extractor of a checkpoint prepared as the run trained
(test-time crops for whole fields, as WS-DINO), the resumable embedding job of every item, and the
FOV profiles of every checkpoint (for epoch selection), streamed as field means."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence

import pandas as pd
import torch.nn as nn

from cell_dino.core.generation import file_identity
from cell_dino.core.runtime import Precision, pick_device, resolved_precision
from cell_dino.data.channels import ChannelStats
from cell_dino.data.items import Items
from cell_dino.embed.artifacts import feature_names
from cell_dino.embed.embedding_job import INDEX, EmbeddingJob, item_metadata
from cell_dino.embed.model import FeatureConfig, run_extractor
from cell_dino.train.training_job import CheckpointSeries

log = logging.getLogger(__name__)


def effective_features(unit: str, features: FeatureConfig, fields_test_time_crops: bool) -> FeatureConfig:
    """The feature settings as applied: whole fields get the test-time crops when ``fields_test_time_crops``."""
    return dataclasses.replace(features, test_time_crops=features.test_time_crops or (fields_test_time_crops and unit == "fov"))


def extractor_for(
    series: CheckpointSeries,
    features: FeatureConfig,
    random_init: bool,
    seed: int,
    data_channels: Sequence[str],
    channel_map: Mapping[str, str] | None = None,
    index: int = -1,
    data_stats: ChannelStats | None = None,
) -> nn.Module:
    """The encoder(s) of checkpoint ``index`` (or their architecture at random init), with the
    effective ``features`` (see :func:`effective_features`), fed the images' ``data_channels`` by
    name (``channel_map``: ``{model channel: data channel}``; raises naming both lists when one is
    missing); ``data_stats``: the images' channel statistics (a bag-of-channels network's)."""
    return run_extractor(series.states(index), features, random_init, seed, data_channels, channel_map, data_stats)


def embedding_job(
    series: CheckpointSeries,
    items: Items,
    extractor: nn.Module,
    random_init: bool,
    features: FeatureConfig,
    batch_size: int,
    shard_size: int,
    device: str,
    precision: Precision,
    seed: int,
    channel_map: Mapping[str, str] | None = None,
) -> EmbeddingJob:
    """The job embedding every item with the run's last checkpoint; its fingerprint holds what the
    features depend on (checkpoint files, store generation, the effective feature settings, the
    channel map, device, precision)."""
    resolved = pick_device(device)
    signature = {
        "checkpoints": [file_identity(p) for p in series.files(-1)],
        "store": items.generation,
        "random_init": random_init,
        "features": dataclasses.asdict(features),
        "channel_map": dict(channel_map or {}),
        "unit": items.unit,
        "seed": seed,
        "device": str(resolved),
        "precision": resolved_precision(precision, resolved),
    }
    job = EmbeddingJob(extractor, items.images, items.table, signature, batch_size, shard_size, device, precision)
    job.report.update(
        {"unit": items.unit, "epoch": index_epoch(series, -1), "random_init": random_init, "models": len(series.files()), "n_items_skipped": items.skipped}
    )
    return job


def field_means(job: EmbeddingJob) -> pd.DataFrame:
    """Per-field mean features of a job's items, accumulated batch by batch (memory: fields x
    features), with the metadata constant within each field."""
    meta = item_metadata(job.table)
    sums, counts = None, None
    for first, features in job.features(0, len(meta)):
        fovs = meta["Metadata_FOV"].iloc[first : first + len(features)].to_numpy()
        batch = pd.DataFrame(features, columns=feature_names(features.shape[1])).groupby(fovs)
        sums = batch.sum() if sums is None else sums.add(batch.sum(), fill_value=0.0)
        counts = batch.size() if counts is None else counts.add(batch.size(), fill_value=0)
    fields = meta.drop(columns=INDEX).drop_duplicates("Metadata_FOV").set_index("Metadata_FOV")
    constant = [c for c in fields.columns if (meta.groupby("Metadata_FOV")[c].nunique(dropna=False) <= 1).all()]
    return fields[constant].join(sums.div(counts, axis=0), how="inner").rename_axis("Metadata_FOV").reset_index()


def epoch_profiles(
    series: CheckpointSeries,
    items: Items,
    features: FeatureConfig,
    batch_size: int,
    device: str,
    precision: Precision,
    seed: int,
    channel_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """FOV-mean teacher features of every checkpoint of the run (``Metadata_Epoch``)."""
    frames = []
    for index in range(len(series.paths)):
        extractor = extractor_for(series, features, False, seed, items.channels.names, channel_map, index, items.stats)
        job = EmbeddingJob(extractor, items.images, items.table, {}, batch_size, batch_size, device, precision)
        frames.append(field_means(job).assign(Metadata_Epoch=index_epoch(series, index)))
        log.info("epoch %d: %d FOV profiles", frames[-1]["Metadata_Epoch"].iloc[0], len(frames[-1]))
    return pd.concat(frames, ignore_index=True)


def index_epoch(series: CheckpointSeries, index: int) -> int:
    """The epoch of the run's checkpoint at ``index``."""
    return int(series.paths[index].stem.removeprefix("checkpoint-epoch"))
