"""Embedding throughput and peak memory at two data sizes (10x apart), one JSON line per run.

Each size runs in a fresh subprocess (its own peak RSS). Side by side in the same run: this
project's streamed job (bf16 autocast, sharded parquet) and a plain loop (fp32, every image and
feature held in memory, one DataFrame at the end). Memory of the job must stay flat as data grows.

    python benchmarks/embed.py [--items 2000 20000]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import zarr
from fresh_process import measure_in_fresh_process

from cell_dino.core.reporting import peak_rss_mb
from cell_dino.embed.embedding_job import EmbeddingJob
from cell_dino.embed.model import FeatureConfig, FeatureExtractor
from cell_dino.encoders.backbone import BackboneConfig, create_backbone
from cell_dino.encoders.preprocessing import Preprocessing

# ViT-tiny/8 (12 blocks), 48 px crops resized to 32 px, as the demo embeds single cells.
BACKBONE = BackboneConfig(arch="vit_tiny", patch_size=8, img_size=32, drop_path_rate=0.0)


def make_crops(path: Path, n: int) -> zarr.Array:
    crops = zarr.open_array(path, mode="w", shape=(n, 3, 48, 48), chunks=(256, 3, 48, 48), dtype="float32")
    rng = np.random.default_rng(0)
    for start in range(0, n, 4096):
        stop = min(start + 4096, n)
        crops[start:stop] = rng.gamma(2.0, 300.0, size=(stop - start, 3, 48, 48)).astype(np.float32)
    return crops


def extractor() -> FeatureExtractor:
    torch.manual_seed(0)
    return FeatureExtractor(create_backbone(BACKBONE, 3), Preprocessing("self", None, None, 32), FeatureConfig())


def table(n: int) -> pd.DataFrame:
    return pd.DataFrame({"Metadata_Plate": "p1", "Metadata_Well": [f"A{i % 60:02d}" for i in range(n)]})


def measure(mode: str, crops_path: Path, out: Path) -> dict:
    crops = zarr.open_array(crops_path, mode="r")
    n = crops.shape[0]
    start = time.perf_counter()
    if mode == "job":
        EmbeddingJob(extractor(), crops, table(n), {"bench": 1}, batch_size=256, shard_size=8192)(out)
    else:
        images = torch.from_numpy(crops[:])
        model = extractor()
        with torch.no_grad():
            features = torch.cat([model(images[i : i + 256]) for i in range(0, n, 256)]).numpy()
        pd.concat([table(n), pd.DataFrame(features).add_prefix("f_")], axis=1).to_parquet(out)
    seconds = time.perf_counter() - start
    return {"mode": mode, "n_items": n, "seconds": seconds, "items_per_second": n / seconds, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs=2, default=(2000, 20000))
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        mode, crops, out = args.measure
        print(json.dumps(measure(mode, Path(crops), Path(out))))
        return
    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for n in args.items:
            crops = Path(workdir) / f"crops-{n}.zarr"
            make_crops(crops, n)
            for mode in ("job", "plain"):
                runs[f"{mode}_{n}"] = measure_in_fresh_process(__file__, mode, str(crops), str(Path(workdir) / f"{mode}-{n}"))
    small, large = args.items
    print(
        json.dumps(
            {
                "benchmark": "embed",
                "machine": platform.processor() or platform.machine(),
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "runs": runs,
                "speedup_vs_plain": runs[f"job_{large}"]["items_per_second"] / runs[f"plain_{large}"]["items_per_second"],
                "job_peak_rss_ratio": runs[f"job_{large}"]["peak_rss_mb"] / runs[f"job_{small}"]["peak_rss_mb"],
                "plain_peak_rss_ratio": runs[f"plain_{large}"]["peak_rss_mb"] / runs[f"plain_{small}"]["peak_rss_mb"],
            }
        )
    )


if __name__ == "__main__":
    main()
