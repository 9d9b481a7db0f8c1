"""Nodes of the ingest pipeline."""

from __future__ import annotations

import logging

import pandas as pd

from cell_dino.data import manifest as mf
from cell_dino.data.adapters import read_manifest
from cell_dino.data.fov_store import FovStore
from cell_dino.imaging.preprocess import PreprocessedFovs
from cell_dino.pipelines.ingest.params import IngestParams
from cell_dino.reporting import peak_rss_mb, per_second

log = logging.getLogger(__name__)


def build_fov_manifest(params: IngestParams) -> pd.DataFrame:
    """Read the data set with its adapter, apply the missing-label policy and validate."""
    source = params.source
    manifest = read_manifest(source.adapter, source.root, source.options)
    if source.channels is not None:
        manifest = mf.select_channels(manifest, source.channels, f"ingest.source.channels vs {source.root}")
    channels = mf.channels_of(manifest)
    manifest, unlabelled = mf.apply_missing_label_policy(
        manifest, source.label_column, source.missing_label, str(source.root)
    )
    if unlabelled:
        log.warning("%d treatment(s) without %s (%s)", len(unlabelled), source.label_column, source.missing_label)
    return mf.validate_manifest(manifest, channels, source.required_metadata, str(source.root))


def preprocess_fovs(manifest: pd.DataFrame, params: IngestParams) -> PreprocessedFovs:
    """A lazy stream of corrected fields; the FOV store dataset consumes it as it writes."""
    return PreprocessedFovs(manifest, mf.channels_of(manifest), params.preprocess)


def tabulate_fovs(manifest: pd.DataFrame, fov_store: FovStore) -> pd.DataFrame:
    """One row per stored FOV, in store order: its ``Metadata_*`` columns and store index."""
    metadata = [c for c in mf.metadata_columns(manifest) if c != mf.FOV_KEY]
    table = manifest.set_index(mf.FOV_KEY).loc[fov_store.keys, metadata]
    table = table.reset_index()
    table["store_index"] = range(len(table))
    height, width = fov_store.images.shape[2:]
    return table.assign(height=height, width=width)


def report_ingest(manifest: pd.DataFrame, fov_store: FovStore) -> dict:
    """``08_reporting/ingest.json``: counts, speed, memory, per-channel statistics, skipped FOVs,
    blank channels per plate, each plate's illumination range and the extreme ones."""
    seconds = fov_store.attrs["seconds"]
    skipped = fov_store.attrs["skipped"]
    return {
        "n_inputs": len(manifest),
        "n_outputs": len(fov_store),
        "n_skipped": len(skipped),
        "skipped": skipped,
        "seconds": seconds,
        "fovs_per_second": per_second(len(manifest), seconds),
        "peak_rss_mb": peak_rss_mb(),
        "channels": list(fov_store.channels.names),
        "channel_stats": fov_store.stats,
        "image_shape": list(fov_store.images.shape[1:]),
        **{k: fov_store.attrs[k] for k in ("blank_channels", "illumination_range", "extreme_illumination")},
    }
