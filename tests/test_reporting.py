import subprocess
import sys

import numpy as np

from cell_dino.reporting import peak_rss_mb

CHILD = "from cell_dino.reporting import peak_rss_mb; print(peak_rss_mb())"


def test_peak_rss_grows_with_an_allocation_and_is_not_inherited_by_a_child() -> None:
    before = peak_rss_mb()
    block = np.ones(300 * 2**20 // 8)  # 300 MiB, touched
    assert peak_rss_mb() > before + 250
    child = float(subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout)
    assert child < peak_rss_mb() - 250
    del block
