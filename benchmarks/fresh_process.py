"""Run one measurement in a fresh Python process (so its peak RSS is its own) and read its JSON line
(the last line of its standard output: libraries may log there before it)."""

from __future__ import annotations

import json
import subprocess
import sys


def measure_in_fresh_process(script: str, *args: str) -> dict:
    completed = subprocess.run([sys.executable, script, "--measure", *args], check=True, capture_output=True, text=True)
    return json.loads(completed.stdout.splitlines()[-1])
