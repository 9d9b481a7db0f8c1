"""Nodes of the ingest pipeline."""

from __future__ import annotations

import pandas as pd

from cell_dino.core.executor import ExecutorConfig
from cell_dino.core.reporting import run_report
from cell_dino.data import manifest as mf
from cell_dino.data.adapters import read_manifest
from cell_dino.data.fov_store import FovStore
from cell_dino.ingest.preprocessing_job import PreprocessingJob
from cell_dino.pipelines.ingest.params import IngestParams


def build_fov_manifest(params: IngestParams) -> pd.DataFrame:
    """Read the data set with its adapter, keep the chosen channels, apply the missing-label
    policy and validate (errors name the file, row or column)."""
    source = params.source
    manifest = read_manifest(source.adapter, source.root, source.options, source.channels)
    if source.channels is not None:
        manifest = mf.select_channels(manifest, source.channels, f"ingest.source.channels vs {source.root}")
    manifest, _ = mf.apply_missing_label_policy(manifest, source.label_column, source.missing_label, str(source.root))
    return mf.validate_manifest(manifest, mf.channels_of(manifest), source.required_metadata, str(source.root))


def plan_preprocessing(manifest: pd.DataFrame, params: IngestParams, runtime: ExecutorConfig) -> PreprocessingJob:
    """A job streaming corrected fields, plate by plate on the ``runtime`` executor; the
    ``fov_store`` dataset runs it as it writes the store."""
    return PreprocessingJob(manifest, mf.channels_of(manifest), params.preprocess, runtime)


def tabulate_fovs(manifest: pd.DataFrame, fov_store: FovStore) -> pd.DataFrame:
    """One row per stored FOV, in store order: its ``Metadata_*`` columns, store index and size."""
    return mf.fov_table(manifest, fov_store.keys, fov_store.images.shape[2:])


def report_ingest(manifest: pd.DataFrame, fov_store: FovStore) -> dict:
    """``08_reporting/ingest.json``: counts, speed, memory, channel statistics, skipped FOVs,
    blank channels per plate, each plate's illumination range and the extreme ones."""
    attrs = fov_store.attrs
    return run_report(
        len(manifest),
        len(fov_store),
        attrs["seconds"],
        unit="fovs",
        n_skipped=len(attrs["skipped"]),
        skipped=attrs["skipped"],
        channels=list(fov_store.channels.names),
        channel_stats=fov_store.stats,
        image_shape=list(fov_store.images.shape[1:]),
        **{k: attrs[k] for k in ("blank_channels", "illumination_range", "extreme_illumination")},
    )
