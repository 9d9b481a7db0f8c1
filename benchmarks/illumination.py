"""The illumination function's Gaussian smoothing: scipy's direct filter against the FFT route the
ingest uses (``cell_dino.ingest.illumination.zero_padded_gaussian``), one JSON line per size.

At the BBBC021 recipe's sigma (136.17 px, CellProfiler's 320 px filter) on a 1024 x 1280 plane the
direct filter's kernel is 1,091 px wide. ``ratio`` is direct seconds / FFT seconds (best of 3 each).

    python benchmarks/illumination.py
"""

from __future__ import annotations

import json
import platform
import time

import numpy as np
from scipy import ndimage

from cell_dino.ingest.illumination import zero_padded_gaussian

CASES = (((1024, 1280), 136.17), ((512, 640), 50.0), ((160, 192), 50.0))


def best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    plane = np.random.default_rng(0).uniform(0, 4000, CASES[0][0])
    for shape, sigma in CASES:
        image = plane[: shape[0], : shape[1]]
        direct = best_of(3, lambda image=image, sigma=sigma: ndimage.gaussian_filter(image, sigma, mode="constant"))
        fft = best_of(3, lambda image=image, sigma=sigma: zero_padded_gaussian(image, sigma))
        record = {"benchmark": "illumination_gaussian", "shape": list(shape), "sigma": sigma, "direct_s": round(direct, 4), "fft_s": round(fft, 4), "ratio": round(direct / fft, 2), "machine": platform.machine()}
        print(json.dumps(record))  # noqa: T201 - the benchmark's one JSON line per size


if __name__ == "__main__":
    main()
