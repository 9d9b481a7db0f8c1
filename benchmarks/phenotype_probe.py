"""What a model's features encode of the phantom's known truth: one JSON line per model.

The phantom writes every field's morphology parameters (``ground_truth/fields.parquet``: nucleus and
cell radius, tubulin bundling, actin puncta, mitotic fraction, density, ...). For each model's FOV
profiles (``05_model_input/<model>/profiles/fov.parquet``, per-field mean of the cells' features),
this probe measures:

- ``r2``: per parameter, the cross-validated R^2 of a ridge regression from the profile to the
  parameter, folds grouped by compound (a parameter must be read off compounds the probe has not
  seen, as NSC asks of MoAs), the ridge penalty chosen inside each training fold by folds grouped by
  compound too (replicate fields of one compound would otherwise choose it). A parameter that fewer
  than ``MIN_COMPOUNDS`` compounds move from DMSO by more than its typical compound-to-compound
  variation (the phantom's ``PARAMETER_SCALE``) is left out of ``r2`` and named in ``undefined``
  (each fold would learn it from one compound: tubulin loss, 2 on the demo phantom);
- ``batch_accuracy``: how well a logistic regression names the imaging batch of a DMSO field from
  its profile before any normalisation, folds grouped by plate (the other plate of the batch
  teaches it): the batch signal normalisation must remove (chance is 1 / batches);
- ``moa_accuracy``: how well it names the MoA of a treated field, folds grouped by compound
  (NSC's question, asked linearly instead of by 1-NN).

For ``r2`` and ``moa_accuracy`` the profiles are z-scored per plate against the plate's DMSO
fields first (the Ljosa recipe's first step), so plate brightness alone does not read as morphology.

    python benchmarks/phenotype_probe.py --data data --models cellprofiler dino dino_random
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cell_dino.integrate.normalise import zscore
from cell_dino.integrate.table import feature_matrix
from cell_dino.phantom.phenotypes import PARAMETER_NAMES, PARAMETER_SCALE

PARAMETERS = tuple(name for name in PARAMETER_NAMES if name != "spindle_poles")  # a rounded count, no typical variation
KEYS = {"Metadata_Plate": "plate", "Metadata_Well": "well", "Metadata_Site": "site"}
FOLDS = 5
ALPHAS = np.logspace(-2, 4, 13)
MIN_COMPOUNDS = 3  # compounds that move a parameter from DMSO by more than its typical variation, for its R^2
SCALE = dict(zip(PARAMETER_NAMES, PARAMETER_SCALE, strict=True))  # the phantom's compound-to-compound variation


def read_table(path: Path, what: str) -> pd.DataFrame:
    """A parquet table, or a one-line ``SystemExit`` naming it and what makes it."""
    if not path.is_file():
        raise SystemExit(f"phenotype_probe: {path} not found ({what})")
    return pd.read_parquet(path)


def grouped_r2(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """Out-of-fold R^2 of a ridge regression, outer and inner (penalty) folds grouped by ``groups``."""
    predicted = np.empty_like(y)
    for train, test in GroupKFold(FOLDS).split(x, y, groups):
        inner = GridSearchCV(make_pipeline(StandardScaler(), Ridge()), {"ridge__alpha": ALPHAS}, cv=GroupKFold(FOLDS - 1))
        predicted[test] = inner.fit(x[train], y[train], groups=groups[train]).predict(x[test])
    return float(1 - ((y - predicted) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def probe(profiles: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """R^2 per parameter, batch and MoA accuracy of one model's FOV profiles."""
    features = list(profiles.columns[~profiles.columns.str.startswith("Metadata_")])
    truth = truth.rename(columns={v: k for k, v in KEYS.items()})
    table = profiles.merge(truth, on=list(KEYS), validate="1:1")
    x = feature_matrix(zscore(profiles, "controls", by="Metadata_Plate").merge(truth[list(KEYS)], on=list(KEYS), validate="1:1"))
    treated = ~table["Metadata_Control"].to_numpy()
    compounds = table["Metadata_Compound"].to_numpy()
    shift = (table[treated].groupby("Metadata_Compound")[list(PARAMETERS)].mean() - table.loc[~treated, list(PARAMETERS)].mean()).abs()
    r2, undefined = {}, {}
    for name in PARAMETERS:
        moved = int((shift[name] > SCALE[name]).sum())
        if moved < MIN_COMPOUNDS:
            undefined[name] = f"{moved} compounds move it from DMSO by more than its typical variation {SCALE[name]:g} (fewer than {MIN_COMPOUNDS})"
            continue
        r2[name] = round(grouped_r2(x, table[name].to_numpy(float), compounds), 3)
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    controls = table.loc[~treated]
    raw = table.loc[~treated, features].to_numpy(float)
    batch = cross_val_predict(classifier, raw, controls["Metadata_Batch"], groups=controls["Metadata_Plate"], cv=GroupKFold(controls["Metadata_Plate"].nunique()))
    moa = cross_val_predict(classifier, x[treated], table.loc[treated, "Metadata_MoA"], groups=compounds[treated], cv=GroupKFold(FOLDS))
    return {
        "n_fovs": len(table),
        "n_features": len(features),
        "r2": r2,
        "r2_mean": round(float(np.mean(list(r2.values()))), 3),
        "undefined": undefined,
        "batch_accuracy": round(float((batch == controls["Metadata_Batch"]).mean()), 3),
        "batch_chance": round(1 / controls["Metadata_Batch"].nunique(), 3),
        "moa_accuracy": round(float((moa == table.loc[treated, "Metadata_MoA"]).mean()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data"), help="a finished demo project's data folder")
    parser.add_argument("--models", nargs="+", default=["cellprofiler", "dino", "dino_random"])
    parser.add_argument("--label", default="", help="free text recorded with each line (e.g. the training budget)")
    args = parser.parse_args()
    truth = read_table(args.data / "01_raw/phantom/ground_truth/fields.parquet", "the phantom's truth: cell-dino phantom writes it")
    for model in args.models:
        start = time.perf_counter()
        profiles = read_table(args.data / "05_model_input" / model / "profiles/fov.parquet", f"model {model}'s FOV profiles: kedro run --pipeline integrate")
        record = {"benchmark": "phenotype_probe", "model": model, "label": args.label, **probe(profiles, truth)}
        record["seconds"] = round(time.perf_counter() - start, 2)
        print(json.dumps(record))  # noqa: T201 - the benchmark's one JSON line per model


if __name__ == "__main__":
    main()
