"""The model ladder over training seeds and budgets (mean and sd per model and metric, the goals), one JSON line.

Each model's NSC, NSCB, both mAPs, k-NN, macro-F1 and Mantel r as mean and standard deviation over
seeds (the demo has 45 treatments: one treatment moves NSC by 0.022, so one run says little), and
the goals checked on the means.

For each seed, a copy of the project runs the chain from training on (train_dino, train_wsdino,
embed, integrate, evaluate, profile) on the stores of one finished ingest + segment (``--stores``,
e.g. the data root ``make demo`` leaves: the phantom is the demo's whatever the seed), seeded as
:func:`cell_dino.evaluate.ladder.seeded_parameters` says. CellProfiler features do not depend
on it: when ``--stores`` holds them (04_feature/cellprofiler) they are reused, else measured per seed.

With ``--epochs 2 8 32`` each budget is a training length in epochs for every learned model
(``optim.epochs``, its warm-up capped at it): the compute curve. The record is also written to
``<stores>/08_reporting/ladder_curve.json``, where the explorer draws it.

Each finished (budget, seed) ladder is kept in ``<workdir>/ladders/`` as it ends: rerun with the
same ``--workdir`` and the finished ones are read back, not trained again (a 3-seed curve at demo
size is hours on 2 cores).

    python benchmarks/ladder.py --stores data [--env local] [--seeds 0 1 2] [--epochs 2 8 32] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

with contextlib.redirect_stdout(sys.stderr):  # Kedro logs as it is imported: stdout keeps the record alone
    from kedro.config import OmegaConfigLoader
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from cell_dino.evaluate.ladder import budget_parameters, curve_goals, goals_met, model_ladder, over_seeds, seeded_parameters
    from cell_dino.registry import MODELS
    from cell_dino.settings import CONFIG_LOADER_ARGS

REPO = Path(__file__).resolve().parents[1]
CHAIN = ("train_dino", "train_wsdino", "embed", "integrate", "evaluate", "profile")
STORES = ("01_raw", "02_intermediate", "03_primary")  # what ingest and segment wrote
MEASURED = "04_feature/cellprofiler"
# the goals on the calibrated demo phantom, each (model, metric, must beat this model)
GOALS = (
    ("dino", "nsc", "dino_random"),
    ("dino", "nscb", "dino_random"),
    ("dino", "map_activity", "dino_random"),
    ("dino", "map_consistency", "dino_random"),
    ("wsdino_cells", "nscb", "dino"),
    ("dino", "mantel_r", "dino_random"),
    ("dino", "nsc", "cellprofiler"),
    ("dino", "nscb", "cellprofiler"),
)


def seed_project(workdir: Path, seed: int, stores: Path, env: str) -> tuple[Path, Path]:
    """A copy of the project (conf, pyproject) whose data root links to the stores; returns the
    project and its data root."""
    root = workdir / f"seed{seed}"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root)
    (root / "src").mkdir()  # the package itself is installed
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    loader = OmegaConfigLoader(str(root / "conf"), env=env, **CONFIG_LOADER_ARGS)
    data = root / loader["globals"]["data_root"]
    data.mkdir(parents=True)
    for name in STORES:
        (data / name).symlink_to((stores / name).resolve(), target_is_directory=True)
    if (stores / MEASURED).is_dir():
        (data / MEASURED).parent.mkdir(parents=True)
        (data / MEASURED).symlink_to((stores / MEASURED).resolve(), target_is_directory=True)
    return root, data


def run_seed(root: Path, data: Path, seed: int, env: str, epochs: int | None) -> pd.DataFrame:
    """The chain from training on with ``seed`` (and every run trained for ``epochs``, None: as
    configured); the ladder of its reports (index ``model``)."""
    loader = OmegaConfigLoader(str(root / "conf"), env=env, **CONFIG_LOADER_ARGS)
    params = seeded_parameters(seed, budget_parameters(loader["parameters"], epochs))
    measured = (data / MEASURED).is_symlink()
    bootstrap_project(root)
    for pipeline in CHAIN:
        namespaces = [m.name for m in MODELS if m.learned or m.transfer] if pipeline == "embed" and measured else None
        with KedroSession.create(project_path=root, env=env, runtime_params=params) as session:
            session.run(pipeline_names=[pipeline], namespaces=namespaces)
    reports = data / "08_reporting"
    return model_ladder(json.loads((reports / "evaluate.json").read_text()), json.loads((reports / "profile.json").read_text()))


def finished_ladder(workdir: Path, seed: int, env: str, epochs: int | None, stores: Path) -> pd.DataFrame:
    """The ladder of one seed at one budget: read back from ``workdir/ladders`` when a run with the
    same settings finished there, else run (and kept there as soon as it ends)."""
    kept = workdir / "ladders" / f"{env}_epochs{epochs or 'configured'}_seed{seed}.json"
    if kept.is_file():
        return pd.read_json(kept, orient="split").rename_axis("model")
    ladder = run_seed(*seed_project(workdir, seed, stores, env), seed, env, epochs)
    kept.parent.mkdir(parents=True, exist_ok=True)
    ladder.to_json(kept.with_suffix(".part"), orient="split")
    kept.with_suffix(".part").replace(kept)
    return ladder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=Path, required=True, help="a data root where ingest and segment have run")
    parser.add_argument("--env", default="local", help="the Kedro environment whose parameters each seed runs with")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds, each run once")
    parser.add_argument("--epochs", type=int, nargs="+", default=None, help="training budgets in epochs (default: as configured)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep each seed's project and finished ladders here, and resume from them (default: a temporary folder)")
    args = parser.parse_args()
    if len(set(args.seeds)) < len(args.seeds):
        raise SystemExit(f"--seeds {args.seeds}: a seed given twice")
    missing = [name for name in STORES if not (args.stores / name).is_dir()]
    if missing:
        raise SystemExit(f"--stores {args.stores}: no {', '.join(missing)}; make the phantom and run ingest and segment there first")
    if args.epochs and (len(set(args.epochs)) < len(args.epochs) or min(args.epochs) < 1):
        raise SystemExit(f"--epochs {args.epochs}: each budget once, at least 1 epoch")
    args.epochs = sorted(args.epochs) if args.epochs else None
    started, budgets = time.perf_counter(), args.epochs or [None]
    curve = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):  # Kedro's log lines: stdout keeps the record alone
        workdir = args.workdir or Path(tmp)
        for epochs in budgets:
            ladders = {seed: finished_ladder(workdir, seed, args.env, epochs, args.stores) for seed in args.seeds}
            curve[str(epochs or "configured")] = over_seeds(ladders)
    models = curve[str(budgets[-1] or "configured")]
    record = {
        "benchmark": "ladder",
        "env": args.env,
        "seeds": args.seeds,
        "budgets": args.epochs,
        "models": models,
        "goals": goals_met(models, GOALS),
        **({"curve": curve, "curve_goals": curve_goals(curve)} if args.epochs else {}),
        "seconds": time.perf_counter() - started,
    }
    print(json.dumps(record))
    if args.epochs:
        (args.stores / "08_reporting").mkdir(exist_ok=True)
        (args.stores / "08_reporting" / "ladder_curve.json").write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
