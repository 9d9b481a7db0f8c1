"""Run-report figures shared by every pipeline: peak memory and throughput."""

from __future__ import annotations

import resource
import sys


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("nan")
