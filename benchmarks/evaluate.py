"""NSC and mAP time and peak memory on 10k and 100k random profiles, one JSON line per run.

Each (metric, size) runs in a fresh subprocess. NSC is computed on treatment profiles (one per
item here, 10 per compound), with the bf16 screen where the CPU has native bf16 (``nsc``) and in
float32 only, as on CPUs without it (``nsc_fp32``, the baseline); mAP (phenotypic activity: tie-aware APs in blocks of queries, mAP
and p-values through copairs) on well-like profiles with 10% controls.

    python benchmarks/evaluate.py [--rows 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import pandas as pd
from fresh_process import measure_in_fresh_process

from cell_dino.core import runtime
from cell_dino.core.reporting import peak_rss_mb
from cell_dino.evaluate.nsc import moa_matching
from cell_dino.evaluate.retrieval import phenotypic_activity

N_FEATURES = 384  # ViT-S CLS


def profiles(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    compound = np.arange(n) // 10
    meta = pd.DataFrame(
        {
            "Metadata_Compound": compound.astype(str),
            "Metadata_Treatment": (np.arange(n) // 5).astype(str),
            "Metadata_MoA": (compound % 12).astype(str),
            "Metadata_Batch": (compound % 10).astype(str),
            "Metadata_Control": np.arange(n) % 10 == 0,
        }
    )
    features = pd.DataFrame(rng.normal(size=(n, N_FEATURES)).astype(np.float32)).add_prefix("f_")
    return pd.concat([meta, features], axis=1)


def measure(metric: str, n: int) -> dict:
    table = profiles(n)
    start = time.perf_counter()
    if metric.startswith("nsc"):
        if metric == "nsc_fp32":
            runtime.native_bf16 = lambda device: False
        moa_matching(table.assign(Metadata_Control=False))
    else:
        phenotypic_activity(table, null_size=1000)
    return {"metric": metric, "n_profiles": n, "seconds": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs=2, default=(10000, 100000))
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], int(args.measure[1]))))
        return
    runs = {}
    for metric in ("nsc", "nsc_fp32", "map"):
        for n in args.rows:
            runs[f"{metric}_{n}"] = measure_in_fresh_process(__file__, metric, str(n))
    small, large = args.rows
    print(
        json.dumps(
            {
                "benchmark": "evaluate",
                "machine": platform.processor() or platform.machine(),
                "runs": runs,
                "nsc_time_ratio": runs[f"nsc_{large}"]["seconds"] / runs[f"nsc_{small}"]["seconds"],
                "nsc_bf16_screen_speedup": runs[f"nsc_fp32_{large}"]["seconds"] / runs[f"nsc_{large}"]["seconds"],
                "nsc_map_seconds": runs[f"nsc_{large}"]["seconds"] + runs[f"map_{large}"]["seconds"],
                "map_time_ratio": runs[f"map_{large}"]["seconds"] / runs[f"map_{small}"]["seconds"],
                "map_peak_rss_ratio": runs[f"map_{large}"]["peak_rss_mb"] / runs[f"map_{small}"]["peak_rss_mb"],
            }
        )
    )


if __name__ == "__main__":
    main()
