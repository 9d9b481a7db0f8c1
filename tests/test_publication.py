"""The run journal and the data-root lock: outputs published together or rolled back together,
a killed run's leftovers repaired at the next start, one run per data root."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cell_dino.publication import JOURNAL, DataRootLock, Journal, RunInProgress, clear_interrupted_writes


def _outputs(root: Path) -> tuple[Path, Path]:
    store, table = root / "03_primary/store.zarr", root / "03_primary/table.parquet"
    store.mkdir(parents=True)
    (store / "zarr.json").write_text("old store")
    table.write_text("old table")
    return store, table


def test_a_failed_run_restores_every_output_and_removes_the_new_ones(tmp_path: Path) -> None:
    store, table = _outputs(tmp_path)
    journal = Journal(tmp_path, "run1")
    for target in (store, table, tmp_path / "08_reporting/new.json"):
        journal.replace(target)
    store.mkdir()
    (store / "zarr.json").write_text("new store")
    (tmp_path / "08_reporting").mkdir()
    (tmp_path / "08_reporting/new.json").write_text("new")
    journal.rollback()
    assert (store / "zarr.json").read_text() == "old store" and table.read_text() == "old table"
    assert not (tmp_path / "08_reporting/new.json").exists() and not (tmp_path / JOURNAL).exists()


def test_a_finished_run_keeps_the_new_outputs_and_drops_the_old(tmp_path: Path) -> None:
    store, table = _outputs(tmp_path)
    journal = Journal(tmp_path, "run2")
    journal.replace(table)
    table.write_text("new table")
    journal.commit()
    assert table.read_text() == "new table" and sorted(p.name for p in table.parent.iterdir()) == ["store.zarr", "table.parquet"]


def test_a_killed_run_is_rolled_back_when_the_next_starts(tmp_path: Path) -> None:
    """A SIGKILL between two outputs: the journal on disk restores the previous generation."""
    store, table = _outputs(tmp_path)
    script = f"""
import os
from pathlib import Path
from cell_dino.publication import Journal
journal = Journal(Path({str(tmp_path)!r}), "killed")
journal.replace(Path({str(table)!r}))
Path({str(table)!r}).write_text("half of a new table")
os.kill(os.getpid(), 9)
"""
    assert subprocess.run([sys.executable, "-c", script]).returncode == -9
    assert json.loads((tmp_path / JOURNAL).read_text())["run"] == "killed"
    Journal.recover(tmp_path)
    assert table.read_text() == "old table" and not (tmp_path / JOURNAL).exists()


def test_interrupted_atomic_writes_are_cleared_or_put_back(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a/.table.parquet.tmp-0123abcd").write_text("partial")
    (tmp_path / "a/.store.zarr.old-89abcdef").mkdir()  # killed between atomic_path's two renames: store.zarr is missing
    (tmp_path / "a/.report.json.old-00000000").write_text("old")
    (tmp_path / "a/report.json").write_text("new")
    (tmp_path / "a/.crops.zarr.parts").mkdir()  # resumable work stays
    clear_interrupted_writes(tmp_path)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [".crops.zarr.parts", "report.json", "store.zarr"]


def test_the_lock_refuses_a_second_holder_and_frees_on_release(tmp_path: Path) -> None:
    first, second = DataRootLock(tmp_path), DataRootLock(tmp_path)
    first.acquire("kedro run --pipeline train_dino (env local)")
    with pytest.raises(RunInProgress, match=r"\(kedro run --pipeline train_dino \(env local\), pid \d+ on "):
        second.acquire("kedro run --pipeline embed")
    first.release()
    second.acquire("kedro run --pipeline embed")
    second.release()
