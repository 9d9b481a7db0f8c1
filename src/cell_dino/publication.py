"""A run's outputs are published together or not at all, and one run at a time writes a data root.

- **Lock**: a run holds an exclusive lock on ``<data root>/.cell-dino.lock`` (``flock``, released by
  the kernel if the process dies); a second run on the same data root is refused with a message
  naming the run that holds it.
- **Journal**: before a run replaces an output, the previous version is moved aside
  (``.<name>.prev-<run>``) and the move is written to ``<data root>/.cell-dino-journal.json``. A run
  that finishes deletes the saved-aside versions; a run that fails removes what it wrote and puts
  every previous version back, so the data root holds each pipeline's last successful outputs and
  never a mixture of two runs. A journal left by a killed run is rolled back when the next run
  starts, and temporary paths left by interrupted atomic writes (``.<name>.tmp-*``,
  ``.<name>.old-*``) are cleared; resumable work (``.<name>.parts``) is kept.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import socket
import time
from pathlib import Path
from typing import IO

from cell_dino.core.atomic import atomic_path, remove_path

log = logging.getLogger(__name__)
LOCK, JOURNAL = ".cell-dino.lock", ".cell-dino-journal.json"
INTERRUPTED_WRITE = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-[0-9a-f]{8}$")


def is_main_process() -> bool:
    """Rank 0 of a ``torchrun`` job, or a process started without it: the one that publishes."""
    return int(os.environ.get("RANK", "0")) == 0


class RunInProgress(RuntimeError):
    """Another run holds the data root."""


class DataRootLock:
    """An exclusive, non-blocking lock on a data root; the holder is described in the lock file."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / LOCK
        self._handle: IO[str] | None = None

    def acquire(self, description: str) -> None:
        """Take the lock or raise :class:`RunInProgress` naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the whole run
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise RunInProgress(f"another cell-dino run is writing {self.path.parent} ({holder}); wait for it to finish") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{description}, pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.truncate(0)
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class Journal:
    """The outputs a run has replaced, and where their previous versions wait (see the module)."""

    def __init__(self, root: Path, run: str) -> None:
        self.root, self.run = Path(root), run
        self.path = self.root / JOURNAL
        self.entries: dict[str, str | None] = {}  # output -> its previous version set aside (None: there was none)

    def _write(self) -> None:
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps({"run": self.run, "entries": self.entries}, indent=1))

    def replace(self, target: str | os.PathLike[str]) -> None:
        """Call before ``target`` is written: its current version (if any) is set aside, once per run."""
        target = Path(target).resolve()
        if str(target) in self.entries:
            return
        backup = None
        if target.exists():
            backup = target.with_name(f".{target.name}.prev-{self.run}")
            remove_path(backup)
        self.entries[str(target)] = None if backup is None else str(backup)
        self._write()  # journal first, then move: a kill between the two leaves nothing unrecorded
        if backup is not None:
            os.replace(target, backup)

    def commit(self) -> None:
        """The run succeeded: previous versions are no longer needed."""
        for backup in self.entries.values():
            if backup is not None:
                remove_path(Path(backup))
        remove_path(self.path)
        self.entries = {}

    def rollback(self) -> None:
        """The run failed: every output it wrote is removed and its previous version restored."""
        for target, backup in self.entries.items():
            remove_path(Path(target))
            if backup is not None and Path(backup).exists():
                os.replace(backup, target)
        if self.entries:
            log.warning("run %s failed: %d output(s) restored to their previous versions", self.run, len(self.entries))
        remove_path(self.path)
        self.entries = {}

    @classmethod
    def recover(cls, root: Path) -> None:
        """Roll back the journal a killed run left in ``root``, and clear interrupted atomic writes."""
        path = Path(root) / JOURNAL
        if path.is_file():
            state = json.loads(path.read_text())
            journal = cls(root, state["run"])
            journal.entries = state["entries"]
            log.warning("an earlier run (%s) stopped before it finished: restoring its %d output(s)", state["run"], len(journal.entries))
            journal.rollback()
        clear_interrupted_writes(Path(root))


def clear_interrupted_writes(root: Path) -> None:
    """Remove ``.<name>.tmp-*`` left by interrupted atomic writes; an ``.<name>.old-*`` whose
    ``<name>`` is missing was interrupted between its two renames and is put back."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob(".*"), key=lambda p: len(p.parts), reverse=True):
        match = INTERRUPTED_WRITE.match(path.name)
        if match is None or not path.exists():
            continue
        target = path.with_name(match["name"])
        if match["kind"] == "old" and not target.exists():
            os.replace(path, target)
            log.warning("restored %s from an interrupted write", target)
        else:
            log.info("removing %s, left by an interrupted write", path)
            shutil.rmtree(path) if path.is_dir() else path.unlink()
