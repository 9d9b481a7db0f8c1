"""Work the catalog runs: a node returns a *job* (a plan), and the dataset of its output runs it
into the output's path (:class:`cell_dino.datasets.job_output.JobOutputDataset`). Large outputs
(stores, embeddings, checkpoints) so stream to disk instead of passing through memory.

A resumable job keeps its finished parts beside the output in ``.<name>.parts/`` under the
fingerprint of its inputs and settings (:func:`cell_dino.core.generation.fingerprint`): a re-run of the
same job skips them, a job with another fingerprint starts afresh, and the output appears only when
every part is done (assembled in a temporary folder, then renamed).

The jobs, one naming style (``<what>_job.py``, ``<What>Job``):

- :class:`cell_dino.ingest.preprocessing_job.PreprocessingJob`: ingest's preprocessed fields (the FOV store);
- :class:`cell_dino.segment.segmentation_job.SegmentationJob`: segment's crop store, by shards of fields;
- :class:`cell_dino.train.training_job.TrainingJob`: a training run's checkpoints (resumed, not replaced);
- :class:`cell_dino.embed.embedding_job.EmbeddingJob`: a model's embeddings, by shards of items;
- :class:`cell_dino.embed.cellprofiler_job.CellProfilerJob`: CellProfiler features, by shards of fields.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, runtime_checkable

from cell_dino.core.atomic import atomic_path

log = logging.getLogger(__name__)
STAMP = "job.json"


@runtime_checkable
class Job(Protocol):
    """Writes its result to ``path`` (a folder); raises and leaves ``path`` as it was on failure."""

    def run(self, path: Path) -> None: ...


class ResumableParts:
    """The finished parts of a job writing ``target``, kept while its ``fingerprint`` holds."""

    def __init__(self, target: Path, fingerprint: str) -> None:
        self.target = Path(target)
        self.folder = self.target.with_name(f".{self.target.name}.parts")
        stamp = self.folder / STAMP
        if self.folder.is_dir() and stamp.is_file() and json.loads(stamp.read_text())["fingerprint"] == fingerprint:
            log.info("resuming: %d part(s) already done in %s", len(self.done()), self.folder)
            return
        if self.folder.exists():
            log.info("%s holds parts of another job (other inputs or settings): starting afresh", self.folder)
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        stamp.write_text(json.dumps({"fingerprint": fingerprint}))

    def path(self, name: str) -> Path:
        return self.folder / name

    def done(self) -> set[str]:
        """Names of the finished parts."""
        return {p.name for p in self.folder.iterdir() if p.name != STAMP}

    @contextmanager
    def part(self, name: str) -> Iterator[Path]:
        """A temporary path for part ``name``; it counts as done once the block ends without error."""
        with atomic_path(self.path(name)) as tmp:
            yield tmp

    def publish(self, assemble: Callable[[Path], None]) -> None:
        """Build the output with ``assemble(temporary folder)`` from the parts, rename it into place,
        then drop the parts."""
        with atomic_path(self.target) as tmp:
            assemble(tmp)
        shutil.rmtree(self.folder)
