"""Nodes of the embed pipeline: the items a run was trained on, its encoder's (or random-init) features
of every item, an attention sample, and the FOV profiles of every checkpoint (epoch selection);
CellProfiler features of every cell and ImageNet DINO features per channel (the baseline models);
the published cell models' features of every item."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from cell_dino.core.executor import ExecutorConfig
from cell_dino.data.items import Items
from cell_dino.embed.artifacts import PARTS, AttentionSample
from cell_dino.embed.cellprofiler_job import CellProfilerJob, cellprofiler_job
from cell_dino.embed.embedding import effective_features, embedding_job, epoch_profiles, extractor_for
from cell_dino.embed.embedding_job import EmbeddingJob
from cell_dino.embed.published import published_job
from cell_dino.embed.sample import attention_sample
from cell_dino.embed.transfer import transfer_job
from cell_dino.integrate.table import METADATA_PREFIX, seeded_rows
from cell_dino.pipelines.embed.params import EmbedParams
from cell_dino.train.training_job import CheckpointSeries


def select_items(checkpoints: CheckpointSeries, crop_store: Any, fov_store: Any, fov_table: pd.DataFrame, params: EmbedParams) -> Items:
    """The items the run was trained on (cells or fields), decided once for the model's namespace
    (items whose store file is missing: as ``embed.on_error`` says)."""
    return Items.of(checkpoints.encoder().unit, crop_store, fov_store, fov_table, params.on_error)


def plan_embedding(
    checkpoints: CheckpointSeries, items: Items, params: EmbedParams, runtime: ExecutorConfig, random_init: bool
) -> EmbeddingJob:
    """A job embedding every item with the run's last checkpoint (or its random-init twin); the
    ``<model>.embeddings`` dataset runs it shard by shard, resumably (as Dask tasks with
    ``runtime.executor: dask``)."""
    p, features = params, effective_features(items.unit, params.features, params.test_time_crops_for_fields)
    extractor = extractor_for(checkpoints, features, random_init, p.seed, items.channels.names, p.channel_map, data_stats=items.stats)
    job = embedding_job(
        checkpoints, items, extractor, random_init, features, p.batch_size, p.shard_size, p.device, p.precision, p.seed, p.channel_map
    )
    return dataclasses.replace(job, runtime=runtime)


def plan_cellprofiler(crop_store: Any, fov_store: Any, params: EmbedParams, runtime: ExecutorConfig) -> CellProfilerJob:
    """A job measuring CellProfiler features of every crop-store cell on its illumination-corrected
    field; the ``cellprofiler.embeddings`` dataset runs it shard by shard, resumably."""
    return cellprofiler_job(crop_store, fov_store, params.cellprofiler, params.seed, runtime, params.on_error)


def plan_transfer(crop_store: Any, fov_store: Any, fov_table: pd.DataFrame, params: EmbedParams) -> EmbeddingJob:
    """A job embedding every item of ``embed.imagenet.unit`` with ImageNet DINO per channel (no
    items, logged, without ``embed.imagenet.weights``); the ``imagenet.embeddings`` dataset runs it."""
    p, items = params, Items.of(params.imagenet.unit, crop_store, fov_store, fov_table, params.on_error)
    features = effective_features(items.unit, p.features, p.test_time_crops_for_fields)
    return transfer_job(items, p.imagenet, features, p.batch_size, p.shard_size, p.device, p.precision)


def plan_published(crop_store: Any, fov_store: Any, fov_table: pd.DataFrame, params: EmbedParams, name: str) -> EmbeddingJob:
    """A job embedding every item with published model ``name`` from ``embed.published.<name>`` (no
    items, logged, without its weights file); the ``<name>.embeddings`` dataset runs it."""
    config = params.published_model(name)
    items = Items.of(config.unit, crop_store, fov_store, fov_table, params.on_error)
    # whole fields, resized, as the model's own code embeds an image: WS-DINO's test-time crops only when features ask for them
    return published_job(name, items, config, params.features, params.batch_size, params.shard_size, params.device, params.precision)


def sample_attention(checkpoints: CheckpointSeries, items: Items, params: EmbedParams, random_init: bool) -> AttentionSample:
    """Last-block CLS attention and patch tokens of a seeded sample of items, with images and masks."""
    features = effective_features(items.unit, params.features, params.test_time_crops_for_fields)
    return attention_sample(
        extractor_for(checkpoints, features, random_init, params.seed, items.channels.names, params.channel_map, data_stats=items.stats),
        items,
        seeded_rows(len(items), params.attention_samples, params.seed),
    )


def profile_epochs(checkpoints: CheckpointSeries, items: Items, params: EmbedParams) -> pd.DataFrame:
    """FOV-mean teacher features of every checkpoint (``Metadata_Epoch``), streamed; empty when
    ``embed.epoch_profiles`` is off."""
    if not params.epoch_profiles:
        return pd.DataFrame()
    features = effective_features(items.unit, params.features, params.test_time_crops_for_fields)
    return epoch_profiles(checkpoints, items, features, params.batch_size, params.device, params.precision, params.seed, params.channel_map)


def report_embedding(embeddings: pd.DataFrame, attention: AttentionSample | None) -> dict:
    """``08_reporting/embed_<model>.json``: size, speed and memory of the embedding run (no
    attention sample for the baselines; ``skipped``: why a baseline made no items)."""
    run = {k: v for k, v in embeddings.attrs.get("embedding", {}).items() if k != PARTS}  # the job's own record: time, speed, memory
    n_features = sum(not c.startswith(METADATA_PREFIX) for c in embeddings.columns)
    return {
        **run,
        "n_inputs": run.get("n_items", len(embeddings)),
        "n_outputs": len(embeddings),
        "n_features": n_features,
        "n_attention_samples": 0 if attention is None else len(attention.items),
    }
