"""The data-parallel steps on a Dask ``LocalCluster`` of 2 worker processes give the outputs of the
local run, and the stores are read and written on a local S3 server (moto) as on disk."""

from __future__ import annotations

from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import pytest
import torch

from cell_dino.core.executor import ExecutorConfig, SerialExecutor, ordered_map, shard_executor
from cell_dino.data import manifest as mf
from cell_dino.data.crop_store import CropStore
from cell_dino.data.errors import DataError
from cell_dino.data.fov_store import FovStore, write_fov_store
from cell_dino.data.readers import read_fov
from cell_dino.datasets.job_output import JobOutputDataset
from cell_dino.embed.artifacts import read_embeddings
from cell_dino.embed.cellprofiler import CellProfilerConfig
from cell_dino.embed.cellprofiler_job import CellProfilerJob
from cell_dino.embed.embedding_job import EmbeddingJob
from cell_dino.embed.model import FeatureConfig, FeatureExtractor
from cell_dino.encoders.backbone import BackboneConfig, create_backbone
from cell_dino.encoders.preprocessing import Preprocessing
from cell_dino.ingest.preprocessing_job import PreprocessConfig, PreprocessingJob
from cell_dino.segment.segment_fovs import SegmentConfig
from cell_dino.segment.segmentation_job import SegmentationJob, write_crop_store
from tests.conftest import new_bucket
from tests.pipelines.conftest import run_pipeline

LOCAL = ExecutorConfig(workers=1)
DASK = ExecutorConfig(executor="dask", workers=2)
PRIMARY = Path("data/test/03_primary")


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, test_phantom: Path) -> Path:
    from tests.projects import make_project

    root = make_project(tmp_path_factory.mktemp("distributed"), test_phantom)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        run_pipeline(root, "ingest")
    return root


def _extractor() -> FeatureExtractor:
    torch.manual_seed(0)
    backbone = create_backbone(BackboneConfig(arch="vit_tiny", patch_size=8, img_size=32, depth=2, drop_path_rate=0.0), 3).eval()
    return FeatureExtractor(backbone, Preprocessing("self", None, None, 32), FeatureConfig())


def _same_crop_stores(a: CropStore, b: CropStore) -> None:
    assert np.array_equal(a.crops[:], b.crops[:]) and np.array_equal(a.masks[:], b.masks[:])
    pd.testing.assert_frame_equal(a.table(), b.table())
    assert a.attrs["cells_per_fov"] == b.attrs["cells_per_fov"] and a.attrs["fov_status"] == b.attrs["fov_status"]


def test_ingest_segment_embed_and_cellprofiler_on_a_dask_local_cluster_equal_the_local_run(
    ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ingested)  # the manifest's image paths are the project's
    manifest = pd.read_parquet(ingested / "data/test/02_intermediate/fov_manifest.parquet")
    fovs = {}
    for name, runtime in {"local": LOCAL, "dask": DASK}.items():
        fovs[name] = FovStore(
            write_fov_store(
                tmp_path / f"{name}.fovs.zarr", PreprocessingJob(manifest, mf.channels_of(manifest), PreprocessConfig(), runtime)
            )
        )
    assert fovs["local"].keys == fovs["dask"].keys and len(fovs["local"]) == len(manifest) == 48
    assert np.array_equal(fovs["local"].images[:], fovs["dask"].images[:])
    assert (
        fovs["local"].stats == fovs["dask"].stats and fovs["local"].attrs["illumination_range"] == fovs["dask"].attrs["illumination_range"]
    )

    store, table = fovs["local"], pd.read_parquet(ingested / PRIMARY / "fov_table.parquet")
    crops = {
        name: CropStore(
            write_crop_store(tmp_path / f"{name}.crops.zarr", SegmentationJob(store, table, SegmentConfig(crop_size=32), runtime, 8))
        )
        for name, runtime in {"local": LOCAL, "dask": DASK}.items()
    }
    _same_crop_stores(crops["local"], crops["dask"])
    assert len(crops["local"]) > 400

    cells, extractor = crops["local"].table(), _extractor()
    for name, runtime in {"local": LOCAL, "dask": DASK}.items():
        EmbeddingJob(extractor, crops["local"].crops, cells, {}, 64, 128, "cpu", "fp32", runtime).run(tmp_path / f"{name}.embeddings")
    local, dask = read_embeddings(tmp_path / "local.embeddings"), read_embeddings(tmp_path / "dask.embeddings")
    assert len(local) == len(cells) and local.shape[1] > 192
    pd.testing.assert_frame_equal(
        local, dask, check_exact=False, rtol=0, atol=1e-6
    )  # one torch thread per Dask worker: sums may round apart

    config = CellProfilerConfig(groups=("intensity", "sizeshape"), fields_per_shard=16)
    for name, runtime in {"local": LOCAL, "dask": DASK}.items():
        CellProfilerJob(store.images, crops["local"].masks, cells, ["DNA", "Tubulin", "Actin"], config, {}, runtime=runtime).run(
            tmp_path / f"{name}.cp"
        )
    pd.testing.assert_frame_equal(read_embeddings(tmp_path / "local.cp"), read_embeddings(tmp_path / "dask.cp"))


def test_stores_are_written_to_and_read_from_s3_by_the_catalog_and_the_dask_workers(
    ingested: Path, tmp_path: Path, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ingested)
    bucket, _ = new_bucket(s3_endpoint, monkeypatch)
    monkeypatch.setenv("FSSPEC_S3_ENDPOINT_URL", s3_endpoint)  # the Dask workers' own fsspec (new processes) finds the server too
    manifest = pd.read_parquet(ingested / "data/test/02_intermediate/fov_manifest.parquet").head(16)
    fov_url, crop_url = f"{bucket}/screen/fov_store.zarr", f"{bucket}/screen/crop_store.zarr"
    fov_output = JobOutputDataset(fov_url, "cell_dino.data.fov_store.FovStore", "zarr.json", lazy=False)
    crop_output = JobOutputDataset(crop_url, "cell_dino.data.crop_store.CropStore", "cells.parquet", lazy=False)
    assert not fov_output.exists() and not crop_output.exists()

    fov_output.save(PreprocessingJob(manifest, mf.channels_of(manifest), PreprocessConfig()))
    remote = fov_output.load()
    local = FovStore(write_fov_store(tmp_path / "fovs.zarr", PreprocessingJob(manifest, mf.channels_of(manifest), PreprocessConfig())))
    assert fov_output.exists() and remote.path == fov_url and remote.keys == local.keys
    assert np.array_equal(remote.images[:], local.images[:]) and remote.stats == local.stats

    table = mf.fov_table(manifest, remote.keys, remote.images.shape[2:])
    crop_output.save(SegmentationJob(remote, table, SegmentConfig(crop_size=32), DASK, 8))  # workers read the fields from S3
    expected = CropStore(write_crop_store(tmp_path / "crops.zarr", SegmentationJob(local, table, SegmentConfig(crop_size=32), LOCAL, 8)))
    assert crop_output.exists()
    _same_crop_stores(crop_output.load(), expected)


def test_a_failed_shard_raises_its_own_error_and_a_local_executor_refuses_a_scheduler() -> None:
    with shard_executor(DASK) as executor, pytest.raises(ZeroDivisionError):
        list(ordered_map(executor, lambda x: 1 / x, [2, 1, 0, 4], window=2))
    with pytest.raises(ValueError, match=r"runtime.scheduler_address 'tcp://nowhere:8786' is for runtime.executor: dask"):
        with shard_executor(ExecutorConfig(scheduler_address="tcp://nowhere:8786")):
            pass


def test_ordered_map_keeps_the_input_order_and_at_most_window_calls_ahead() -> None:
    ran: list[int] = []

    class Counting(SerialExecutor):
        submitted = 0

        def submit(self, fn, /, *args, **kwargs):
            Counting.submitted += 1
            return super().submit(fn, *args, **kwargs)

    def square(x: int) -> int:
        ran.append(x)
        return x * x

    results = ordered_map(Counting(), square, range(10), window=3)
    assert next(results) == 0 and Counting.submitted == 3  # three submitted, one consumed
    assert ran == [0]  # in this process, a call runs only when its result is wanted: nothing ahead
    assert list(results) == [x * x for x in range(1, 10)] and ran == list(range(10))
    interrupted = ordered_map(SerialExecutor(), lambda x: (_ for _ in ()).throw(KeyboardInterrupt) if x == 1 else x, range(5))
    assert next(interrupted) == 0
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C reaches the caller as it is
        next(interrupted)


def test_ingest_without_estimated_functions_runs_in_shards_of_fields_with_the_store_of_one_pass(
    ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No function to estimate (HPA, WTC-11; LINCS's saved ones): a plate splits into shards of
    ``fields_per_shard`` fields, run in 2 processes; the fields, their order and the channel means
    are those of one pass over the manifest, and a bad field still names its row."""
    monkeypatch.chdir(ingested)
    manifest = pd.read_parquet(ingested / "data/test/02_intermediate/fov_manifest.parquet")
    channels = mf.channels_of(manifest)
    whole = PreprocessingJob(manifest, channels, PreprocessConfig(illumination=False, fields_per_shard=100))
    assert [len(rows) for _, rows in whole._shards()] == manifest.groupby("Metadata_Plate", sort=False).size().tolist()
    sharded = PreprocessingJob(manifest, channels, PreprocessConfig(illumination=False, fields_per_shard=5), ExecutorConfig(workers=2))
    sizes = [len(rows) for _, rows in sharded._shards()]
    assert max(sizes) == 5 and sum(sizes) == len(manifest) > 5
    one, many = FovStore(write_fov_store(tmp_path / "one.zarr", whole)), FovStore(write_fov_store(tmp_path / "many.zarr", sharded))
    assert one.keys == many.keys == manifest["Metadata_FOV"].tolist()
    assert np.array_equal(one.images[:], many.images[:])
    np.testing.assert_allclose(one.stats["mean"], many.stats["mean"], rtol=1e-12)
    broken = manifest.assign(FileName_DNA=manifest["FileName_DNA"].where(manifest.index != 7, "gone.tif"))
    broken_job = PreprocessingJob(broken, channels, PreprocessConfig(illumination=False, fields_per_shard=5), ExecutorConfig(workers=2))
    with pytest.raises(DataError, match=r"manifest row 7 .*gone.tif"):
        broken_job.run(tmp_path / "broken.zarr")  # the job protocol: its scratch beside the output
    assert not (tmp_path / "broken.zarr").exists() and not list(tmp_path.glob(".ingest-shards-*"))


def test_uncorrected_fields_keep_the_sources_uint16_and_read_back_as_the_same_float32(
    ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ingested)
    manifest = pd.read_parquet(ingested / "data/test/02_intermediate/fov_manifest.parquet").head(6)
    channels = mf.channels_of(manifest)
    raw = FovStore(write_fov_store(tmp_path / "raw.zarr", PreprocessingJob(manifest, channels, PreprocessConfig(illumination=False))))
    padded = PreprocessConfig(illumination=False, pad_to=(200, 200))
    pad = FovStore(write_fov_store(tmp_path / "pad.zarr", PreprocessingJob(manifest, channels, padded)))
    clipped = FovStore(
        write_fov_store(tmp_path / "clip.zarr", PreprocessingJob(manifest, channels, PreprocessConfig(illumination=False, clip_max=900.5)))
    )
    assert raw.images.storage_dtype == pad.images.storage_dtype == np.uint16 and clipped.images.storage_dtype == np.float32
    source = read_fov(mf.image_paths(manifest.iloc[3], channels))  # the TIFFs' own values
    field = raw[3]
    assert field.dtype == np.float32 and np.array_equal(field, source) and raw.images[2:4].dtype == np.float32
    assert np.array_equal(pad[3][:, 20:180, 4:196], source) and pad[3][:, :20].max() == 0
    assert (
        raw.stats
        == FovStore(
            write_fov_store(tmp_path / "f.zarr", PreprocessingJob(manifest, channels, PreprocessConfig(illumination=False, clip_max=1e9)))
        ).stats
    )


def test_a_remote_output_exists_where_its_own_marker_is_not_where_its_name_matches_as_a_pattern() -> None:
    fsspec.filesystem("memory").pipe("/bkt/emb/model_1/_embedding.json", b"{}")
    reader = "cell_dino.embed.artifacts.read_embeddings"
    assert JobOutputDataset("memory://bkt/emb/model_1", reader, "_embedding.json").exists()
    assert not JobOutputDataset("memory://bkt/emb/model_?", reader, "_embedding.json").exists()
    assert not JobOutputDataset("memory://bkt/emb/model_2", reader, "_embedding.json").exists()
