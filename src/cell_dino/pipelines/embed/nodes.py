"""Nodes of the embed pipeline: teacher (or random-init) features, attention samples, and the
well profiles of every checkpoint of a run (for epoch selection)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
import pandas as pd
import torch

from cell_dino.features.job import EmbeddingJob, item_metadata
from cell_dino.generation import file_identity
from cell_dino.runtime import pick_device, resolved_precision
from cell_dino.features.model import ConcatenatedExtractors, run_extractor
from cell_dino.features.artifacts import AttentionSample
from cell_dino.features.sample import attention_sample, item_masks, sample_indices
from cell_dino.pipelines.embed.params import EmbedParams
from cell_dino.profiling.levels import well_profiles
from cell_dino.ssl.run import CheckpointSeries
from cell_dino.ssl.training_data import store_and_table

log = logging.getLogger(__name__)


def _extractor(states: list[dict], params: EmbedParams, random_init: bool) -> torch.nn.Module:
    fields = states[0]["meta"]["unit"] == "fov" and params.test_time_crops_for_fields
    config = dataclasses.replace(params.features, test_time_crops=params.features.test_time_crops or fields)
    return run_extractor(states, config, random_init=random_init, seed=params.seed)


def plan_embedding(checkpoints: CheckpointSeries, crop_store: Any, fov_store: Any, fov_table: pd.DataFrame,
                   params: EmbedParams, random_init: bool) -> EmbeddingJob:  # fmt: skip
    """Features of every item of the unit the run was trained on, from its last checkpoint."""
    states = checkpoints.states(-1)
    state = states[0]
    unit = state["meta"]["unit"]
    store, images, table = store_and_table(unit, crop_store, fov_store, fov_table)
    signature = {"checkpoints": [file_identity(p) for p in checkpoints.files(-1)], "store": store.generation, "random_init": random_init,
                 "features": dataclasses.asdict(params.features), "unit": unit, "seed": params.seed,
                 "device": str(pick_device(params.device)), "precision": resolved_precision(params.precision, pick_device(params.device))}  # fmt: skip
    job = EmbeddingJob(_extractor(states, params, random_init), images, table, signature, params.batch_size,
                       params.shard_size, params.device, params.precision)  # fmt: skip
    job.report.update({"unit": unit, "epoch": int(state["epoch"]), "random_init": random_init, "models": len(states)})
    return job


def sample_attention(checkpoints: CheckpointSeries, crop_store: Any, fov_store: Any, fov_table: pd.DataFrame,
                     params: EmbedParams, random_init: bool) -> AttentionSample:  # fmt: skip
    """Last-block CLS attention and patch tokens of a random sample of items, with images and masks."""
    states = checkpoints.states(-1)
    unit = states[0]["meta"]["unit"]
    _, images, table = store_and_table(unit, crop_store, fov_store, fov_table)
    indices = sample_indices(len(table), params.attention_samples, params.seed)
    size = images.shape[-1]
    if unit == "cell":
        masks = item_masks(crop_store, table, indices, size)
    else:
        labels = np.stack([np.asarray(crop_store.masks[int(i)]) for i in indices])
        masks = labels > 0
    extractor = _extractor(states, params, random_init)
    first = extractor.extractors[0] if isinstance(extractor, ConcatenatedExtractors) else extractor
    return attention_sample(first, images, table, indices, masks)


def _fov_means(job: EmbeddingJob, meta: pd.DataFrame) -> pd.DataFrame:
    """Per-field mean features, accumulated batch by batch (memory: fields x features)."""
    sums, counts = None, None
    for first, features in job.features(0, len(meta)):
        fovs = meta["Metadata_FOV"].iloc[first : first + len(features)].to_numpy()
        batch = pd.DataFrame(features, columns=[f"f_{j:04d}" for j in range(features.shape[1])]).groupby(fovs)
        sums = batch.sum() if sums is None else sums.add(batch.sum(), fill_value=0.0)
        counts = batch.size() if counts is None else counts.add(batch.size(), fill_value=0)
    means = sums.div(counts, axis=0)
    fields = meta.drop(columns="Metadata_Index").drop_duplicates("Metadata_FOV").set_index("Metadata_FOV")
    constant = [c for c in fields.columns if (meta.groupby("Metadata_FOV")[c].nunique(dropna=False) <= 1).all()]
    return fields[constant].join(means, how="inner").rename_axis("Metadata_FOV").reset_index()


def profile_epochs(checkpoints: CheckpointSeries, crop_store: Any, fov_store: Any, fov_table: pd.DataFrame, params: EmbedParams) -> pd.DataFrame:
    """Well-mean teacher features of every checkpoint (``Metadata_Epoch``), for epoch selection;
    streamed to field means, so memory does not grow with the number of items."""
    if not params.epoch_profiles:
        return pd.DataFrame()
    frames = []
    for index in range(len(checkpoints.paths)):
        states = checkpoints.states(index)
        epoch = int(states[0]["epoch"])
        _, images, table = store_and_table(states[0]["meta"]["unit"], crop_store, fov_store, fov_table)
        job = EmbeddingJob(_extractor(states, params, False), images, table, {}, params.batch_size, params.shard_size, params.device, params.precision)
        wells = well_profiles(_fov_means(job, item_metadata(table)))
        frames.append(wells.assign(Metadata_Epoch=epoch))
        log.info("epoch %d: %d well profiles", epoch, len(wells))
    return pd.concat(frames, ignore_index=True)


def report_embedding(embeddings: pd.DataFrame, attention: AttentionSample) -> dict:
    """``08_reporting/embed_<model>.json``: size, speed and memory of the embedding run."""
    run = embeddings.attrs.get("embedding", {})
    n_features = sum(1 for c in embeddings.columns if not c.startswith("Metadata_"))
    return {**run, "n_inputs": run.get("n_items", len(embeddings)), "n_outputs": len(embeddings),
            "n_features": n_features, "n_attention_samples": len(attention.items)}  # fmt: skip
