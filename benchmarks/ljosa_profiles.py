"""Reference figures on real data: NSC / NSCB / mAP of every normalisation of integrate on the
Ljosa et al. (2013) per-well CellProfiler profiles of BBBC021 (in ../shared), one JSON line.

Treatment profile = median over wells; all labelled wells (the WS-DINO convention). Ljosa et al.
report 94 % NSC for their best pipeline (factor analysis). The same table is scored a second time
with one value missing (``Cells_AreaShape_Area`` of the first well), as integrate and evaluate
take it: the feature is dropped and counted, and the figures must not move.

    python benchmarks/ljosa_profiles.py [--shared ../shared/data/bbbc021]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cell_dino.data.adapters.bbbc021 import read_bbbc021
from cell_dino.data.adapters.cellprofiler_profiles import read_well_profiles
from cell_dino.evaluate.nsc import moa_matching, treatment_batches
from cell_dino.evaluate.retrieval import phenotypic_consistency
from cell_dino.integrate.finite import finite_profiles
from cell_dino.integrate.levels import TREATMENT_KEYS, treatment_profiles
from cell_dino.integrate.normalise import normalised
from cell_dino.pipelines.integrate.params import IntegrateParams
from cell_dino.pipelines.params import load_parameters

PROFILES = "ljosa_jbiomolscreen_2013_per_well_mean.csv.gz"
METHODS = ("none", "zscore", "zscore_plate_controls", "tvn", "sphering", "harmony")
SETTINGS = load_parameters("integrate", IntegrateParams, Path(__file__).resolve().parents[1]).normalise  # as the pipeline runs them


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("CELL_DINO_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data/bbbc021"
    parser.add_argument("--shared", type=Path, default=default, help="the BBBC021 tables (default: $CELL_DINO_SHARED or ../shared)")
    args = parser.parse_args()
    wells = read_well_profiles(args.shared / PROFILES, read_bbbc021(args.shared))
    one_missing = wells.copy()
    one_missing.loc[0, "Cells_AreaShape_Area"] = np.nan
    one_missing, dropped = finite_profiles(one_missing, "drop", "Ljosa wells with one missing value")
    print(
        json.dumps(
            {
                "benchmark": "ljosa_profiles",
                "n_wells": len(wells),
                "published_best_nsc": 0.94,
                "results": score(wells),
                "one_missing_value": {"dropped": dropped, "zscore": score(one_missing, ("zscore",))["zscore"]},
            }
        )
    )


def score(wells: pd.DataFrame, methods: tuple[str, ...] = METHODS) -> dict:
    """NSC, NSCB and consistency mAP of each normalisation of the well profiles."""
    results = {}
    for method in methods:
        start = time.perf_counter()
        normal = normalised(wells, method, SETTINGS)
        treatments = treatment_profiles(normal, "median")
        matching = moa_matching(treatments, treatment_batches(normal, treatments, TREATMENT_KEYS))
        consistency = phenotypic_consistency(treatments, null_size=1000)
        results[method] = {
            **matching.summary(),
            "map_consistency": float(consistency["mean_average_precision"].mean()),
            "seconds": time.perf_counter() - start,
        }
    return results


if __name__ == "__main__":
    main()
