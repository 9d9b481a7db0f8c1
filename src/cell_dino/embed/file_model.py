"""A network trained elsewhere, from a local weights file (the ImageNet baseline, the published cell
models): its embedding job, whose signature holds the file's identity; or, when no file is given, a
job of no items with the columns the model's features would have, whose record says why it was skipped."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import torch
import torch.nn as nn

from cell_dino.core.runtime import Precision, pick_device, resolved_precision
from cell_dino.data.items import Items
from cell_dino.embed.embedding_job import EmbeddingJob
from cell_dino.embed.model import FeatureConfig

log = logging.getLogger(__name__)


class NoFeatures(nn.Module):
    """Stands in for a network that is not there: ``B x width`` zeros (only ever given no items, so
    that the empty embedding has the columns the network's would have)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(len(x), self.width)


def skipped_job(model: str, reason: str, items: Items, width: int, batch_size: int, shard_size: int, device: str, precision: Precision) -> EmbeddingJob:
    """A job of no items for ``model`` with ``width`` feature columns; its record's ``skipped`` is
    ``reason`` (also logged as a warning: an earlier embedding with weights is replaced)."""
    log.warning("%s model skipped: %s", model, reason)
    signature = {"skipped": True, "store": items.generation, "unit": items.unit}
    job = EmbeddingJob(NoFeatures(width), items.images[:0], items.table.iloc[:0], signature, batch_size, shard_size, device, precision)
    job.report.update({"unit": items.unit, "skipped": reason})
    return job


def file_model_job(
    extractor: nn.Module, items: Items, identity: Any, config: Any, features: FeatureConfig, batch_size: int, shard_size: int,
    device: str, precision: Precision, **report: Any,
) -> EmbeddingJob:
    """The job embedding every item with ``extractor``; its signature (resume only when equal) holds
    ``identity`` (the weights file's), the model's ``config`` and ``features`` settings, the store's
    generation, the device and the precision; ``report`` joins the job's record."""
    resolved = pick_device(device)
    signature = {
        "weights": identity,
        "config": dataclasses.asdict(config),
        "features": dataclasses.asdict(features),
        "store": items.generation,
        "unit": items.unit,
        "device": str(resolved),
        "precision": resolved_precision(precision, resolved),
    }
    job = EmbeddingJob(extractor, items.images, items.table, signature, batch_size, shard_size, device, precision)
    job.report.update({"unit": items.unit, **report, "channels": list(items.channels.names), "n_items_skipped": items.skipped})
    return job
