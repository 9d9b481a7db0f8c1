"""DINO4Cells' MLP classifier: one fold's training time, the project's step against the plain
PyTorch one (``nn.Dropout``, AdamW unfused: the baseline) in the same run, one JSON line.

Both fit the same MLP (512/256, dropout 0.5, AdamW, cosine, batch 128, class-balanced sampling)
on the same random profiles; only the dropout mask's sampler and the optimiser's kernel differ.

    python benchmarks/classifier.py [--items 9000] [--features 192] [--epochs 10]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from unittest import mock

import numpy as np
import torch

from cell_dino.evaluate import classifier
from cell_dino.evaluate.classifier import ClassifierConfig, fit_mlp


def seconds(x: np.ndarray, y: np.ndarray, config: ClassifierConfig) -> float:
    started = time.perf_counter()
    fit_mlp(x, y, False, config)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=9000)
    parser.add_argument("--features", type=int, default=192)
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.items, args.features)).astype(np.float32)
    y = rng.integers(0, args.classes, args.items)
    config = ClassifierConfig(epochs=args.epochs)
    seconds(x, y, ClassifierConfig(epochs=1))  # warm-up: the first fit in a process pays for thread pools and allocations
    project = seconds(x, y, config)
    adamw = torch.optim.AdamW
    with (
        mock.patch.object(classifier, "Dropout", torch.nn.Dropout),
        mock.patch.object(torch.optim, "AdamW", lambda *a, fused=None, **k: adamw(*a, **k)),
    ):
        baseline = seconds(x, y, config)
    steps = args.epochs * int(np.ceil(args.items / config.batch_size))
    record = {
        "benchmark": "classifier_fold",
        "items": args.items,
        "features": args.features,
        "epochs": args.epochs,
        "steps": steps,
        "seconds": round(project, 2),
        "baseline_seconds": round(baseline, 2),
        "ms_per_step": round(1000 * project / steps, 2),
        "baseline_ms_per_step": round(1000 * baseline / steps, 2),
        "speedup": round(baseline / project, 2),
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
    }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
