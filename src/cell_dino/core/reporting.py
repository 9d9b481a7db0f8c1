"""Run reports: the figures every pipeline reports (counts, time, throughput, peak memory)."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

PROC_STATUS = Path("/proc/self/status")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Reads VmHWM on Linux: unlike ``ru_maxrss`` it resets at ``exec``, so a subprocess does not
    inherit the high-water mark of the parent it was forked from.
    """
    if PROC_STATUS.is_file():
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("nan")


def run_report(n_inputs: int, n_outputs: int, seconds: float | None = None, unit: str = "items", **figures: object) -> dict:
    """The head every ``08_reporting/<pipeline>.json`` shares (inputs, outputs, seconds, inputs per
    second as ``<unit>_per_second``, peak memory of this process in MiB), followed by the
    pipeline's own ``figures``."""
    timing = {} if seconds is None else {"seconds": seconds, f"{unit}_per_second": per_second(n_inputs, seconds)}
    return {"n_inputs": n_inputs, "n_outputs": n_outputs, **timing, "peak_rss_mb": peak_rss_mb(), **figures}
