import json
import subprocess
import sys

PROBE = """
import json, subprocess, sys
import numpy as np
from cell_dino.core.reporting import peak_rss_mb
before = peak_rss_mb()
block = np.ones(300 * 2**20 // 8)  # 300 MiB, touched
after = peak_rss_mb()
child = float(subprocess.run([sys.executable, "-c", "from cell_dino.core.reporting import peak_rss_mb; print(peak_rss_mb())"],
                             capture_output=True, text=True, check=True).stdout)
print(json.dumps({"before": before, "after": after, "child": child}))
"""


def test_peak_rss_grows_with_an_allocation_and_is_not_inherited_by_a_child() -> None:
    """In a fresh process: the peak rises by the allocation; a child forked from it starts low."""
    out = json.loads(subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout)
    assert out["after"] > out["before"] + 250
    assert out["child"] < out["after"] - 250
