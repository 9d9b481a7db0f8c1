"""Run-report figures shared by every pipeline: peak memory and throughput."""

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
