"""Shared fixtures. Fixtures are made in code: the phantom, small TIFFs, temp projects."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import fsspec
import numpy as np
import pandas as pd
import pytest
import tifffile
import torch
from moto.server import ThreadedMotoServer
from xdist.scheduler import LoadScopeScheduling

from cell_dino.data.adapters.bbbc021 import read_bbbc021
from cell_dino.data.adapters.cellprofiler_profiles import read_well_profiles
from cell_dino.encoders.backbone import BackboneConfig, create_backbone
from cell_dino.phantom import generate_phantom
from tests.projects import CHAIN, SHARED_DATA, make_project, run_pipeline

SHARED_BBBC021 = SHARED_DATA / "bbbc021"
PUBLISHED_FIXTURES = Path(__file__).resolve().parent / "published"  # published models' layouts (tests/published/make_fixtures.py)
_BUCKETS = itertools.count()
# make test distributes whole files to two pytest-xdist workers; the files whose tests read the
# session's whole-chain run (finished_project) go to one worker together, so the chain is built once.
SHARED_CHAIN = "finished_project"
SHARED_CHAIN_FILES = frozenset(
    {
        "tests/app/test_app.py",
        "tests/app/test_browser.py",
        "tests/data/test_held_stores.py",
        "tests/pipelines/test_embed_integrate_evaluate.py",
        "tests/test_notebooks.py",
    }
)
# The longest work units (measured with --durations) go out first, so that neither worker is left
# with one of them at the end (make test passes --no-loadscope-reorder, else xdist sends the units
# with most tests first: the one-test learning unit ran last, 167 s with the other worker idle).
FIRST = (
    SHARED_CHAIN,
    "tests/pipelines/test_learning.py",
    "tests/pipelines/test_bbbc021_miniature.py",
    "tests/pipelines/test_hpa_miniature.py",
    "tests/pipelines/test_lincs_miniature.py",
    "tests/pipelines/test_sweep.py",
    "tests/pipelines/test_train.py",
)


def work_unit(nodeid: str) -> str:
    """The pytest-xdist work unit of a test: its file, or the shared chain's files together."""
    path = nodeid.split("::")[0]
    return SHARED_CHAIN if path in SHARED_CHAIN_FILES else path


class ChainScheduling(LoadScopeScheduling):
    """``--dist loadfile`` with the shared chain's files as one unit."""

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log) -> LoadScopeScheduling | None:
    return ChainScheduling(config, log) if config.getvalue("dist") == "loadfile" else None


def pytest_configure(config: pytest.Config) -> None:
    """In a pytest-xdist worker, torch and numba take one thread: the workers share the machine's cores.

    numba's OpenMP layer shares libgomp's thread count with torch, and umap-learn restores numba's
    count after a fit: left at the cores, every UMAP set the worker's torch to 2 threads, and its
    later tests ran 6-10x slower beside the other worker (a resumed-embedding test 4 -> 45 s)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
        os.environ["NUMBA_NUM_THREADS"] = "1"  # read when numba is first imported (umap-learn imports it lazily here)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest work units first; a test that reads the shared chain outside its files is refused."""
    strays = {item.nodeid.split("::")[0] for item in items if SHARED_CHAIN in getattr(item, "fixturenames", ())} - SHARED_CHAIN_FILES
    if strays:
        raise pytest.UsageError(f"{sorted(strays)} read {SHARED_CHAIN}: add them to SHARED_CHAIN_FILES in tests/conftest.py")
    rank = {unit: i for i, unit in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(work_unit(item.nodeid), len(FIRST)))


@pytest.fixture(scope="session")
def shared_bbbc021() -> Path:
    """The real BBBC021 metadata and Ljosa profiles in ../shared (required in CI)."""
    if not SHARED_BBBC021.is_dir():
        pytest.fail(f"{SHARED_BBBC021} not found: the real BBBC021 metadata must sit in ../shared")
    return SHARED_BBBC021


@pytest.fixture(scope="session")
def bbbc021_manifest(shared_bbbc021: Path) -> pd.DataFrame:
    """The FOV manifest of the real BBBC021 tables (13,200 fields; no images)."""
    return read_bbbc021(shared_bbbc021)


@pytest.fixture(scope="session")
def ljosa_wells(shared_bbbc021: Path, bbbc021_manifest: pd.DataFrame) -> pd.DataFrame:
    """Ljosa et al. 2013's per-well mean CellProfiler profiles of BBBC021 (632 wells, 330 DMSO)."""
    return read_well_profiles(shared_bbbc021 / "ljosa_jbiomolscreen_2013_per_well_mean.csv.gz", bbbc021_manifest)


@pytest.fixture(scope="session")
def test_phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``test`` preset phantom, generated once per session (read-only for tests)."""
    return generate_phantom(tmp_path_factory.mktemp("phantom") / "screen", "test", seed=0)


def write_tiff(path: Path, shape: tuple[int, int] = (24, 32), value: int = 1000, dtype=np.uint16) -> Path:
    """A small single-channel TIFF with a ramp, so files differ."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = (value + np.arange(np.prod(shape)).reshape(shape) % 50).astype(dtype)
    tifffile.imwrite(path, image)
    return path


def imagenet_weights(path: Path) -> Path:
    """An RGB network's weights file in the shape of the test env's ``embed.imagenet.backbone`` (a
    tiny ViT standing in for DINO's ViT-S/16 ImageNet weights, which cannot be downloaded here)."""
    torch.manual_seed(0)
    backbone = create_backbone(BackboneConfig(arch="vit_tiny", patch_size=8, img_size=32, depth=2), 3)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(backbone.state_dict(), path)
    return path


@pytest.fixture(scope="session")
def finished_project(tmp_path_factory: pytest.TempPathFactory, test_phantom: Path) -> Path:
    """A project in which every pipeline has run on the test phantom (``-e test``, the ImageNet
    baseline and MorphEm with weights files), once per session: the chain's own test and the explorer's tests read it."""
    root = make_project(tmp_path_factory.mktemp("finished"), test_phantom)
    weights = {
        "embed": {
            "imagenet": {"weights": str(imagenet_weights(root / "data/test/06_models/imagenet/rgb_dino.pth"))},
            "published": {"morphem": {"weights": str(PUBLISHED_FIXTURES / "morphem.safetensors")}},  # a small MorphEm (make_fixtures.py)
        }
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
        for name in CHAIN:
            run_pipeline(root, name, params=weights if name == "embed" else None)
    return root


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3 server (moto's server mode) for the session: real ``s3://`` reads through s3fs."""
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def new_bucket(endpoint: str, patch: pytest.MonkeyPatch) -> tuple[str, Callable[[str, bytes], None]]:
    """A fresh bucket on the local S3 server, fsspec pointed at it (undone with ``patch``):
    ``(s3://bucket, upload(key, bytes))``."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        patch.setenv(key, value)
    patch.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint})
    client = boto3.client("s3", endpoint_url=endpoint)
    name = f"cellpainting-gallery-{next(_BUCKETS)}"
    client.create_bucket(Bucket=name)
    return f"s3://{name}", lambda key, body: client.put_object(Bucket=name, Key=key, Body=body)


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Callable[[str, bytes], None]]:
    return new_bucket(s3_endpoint, monkeypatch)
