"""Where the data-parallel shards run (ingest's plates, segment's fields, embed's item shards, the
CellProfiler features' fields): worker processes on this machine, or tasks on a ``dask.distributed``
cluster. Every shard function is the same either way; only the :class:`concurrent.futures.Executor`
that maps it changes, so a local run and a cluster run give identical outputs.

``runtime.executor: dask`` with a ``scheduler_address`` (``tcp://host:8786``) joins a running
cluster: one started by dask-jobqueue on SLURM/PBS, by dask-kubernetes, or by hand with
``dask scheduler`` and ``dask worker``. Without an address a ``LocalCluster`` of ``workers``
single-threaded processes starts here. The workers must reach the stores at the same paths: a
shared filesystem or an object store (``s3://``, through fsspec).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from pydantic import Field

from cell_dino.core.config import Count, settings

log = logging.getLogger(__name__)


ADDRESS = r"^(tcp|tls|ucx|ws|wss)://[^:/\s]+:\d+$"  # a Dask scheduler's address: protocol://host:port


@settings
class ExecutorConfig:
    """The ``runtime`` parameters: which engine runs the shards, and how wide."""

    executor: Literal["local", "dask"] = "local"
    workers: Count = 1  # local: worker processes (1: in this process); dask without an address: the LocalCluster's processes
    # dask: a running cluster's scheduler (tcp://host:8786); None: a LocalCluster started here
    scheduler_address: Annotated[str, Field(pattern=ADDRESS)] | None = None


class _Deferred(Future):
    """A future that runs its call in the caller's thread when its result is first asked for."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__()
        self._call = call

    def result(self, timeout: float | None = None) -> Any:
        if not self.done():
            self.set_result(self._call())  # an exception (Ctrl-C included) reaches the caller as it is
        return super().result(timeout)


class SerialExecutor(Executor):
    """Runs each call in this process, in order, when its result is asked for: nothing runs ahead
    of the consumer (one shard in memory at a time), and a cancelled call never runs."""

    width = 1

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return _Deferred(lambda: fn(*args, **kwargs))


def width(executor: Executor) -> int:
    """How many calls ``executor`` runs at once: its processes, or the Dask cluster's threads."""
    return getattr(executor, "width", 1)


def ordered_map(executor: Executor, fn: Callable[..., Any], *iterables: Iterable[Any], window: int | None = None) -> Iterator[Any]:
    """``fn`` over the zipped ``iterables`` on ``executor``, results in input order, with at most
    ``window`` calls (default: twice the executor's :func:`width`) submitted ahead of the one being
    consumed, so what waits in memory or on disk stays bounded however many shards there are.
    Pending calls are cancelled if the consumer stops."""
    window = window or 2 * width(executor)
    pending: deque[Future] = deque()
    arguments = zip(*iterables)
    try:
        for args in arguments:
            pending.append(executor.submit(fn, *args))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


@contextmanager
def shard_executor(config: ExecutorConfig) -> Iterator[Executor]:
    """An executor for ``config``; shut down (pending work cancelled) when the block ends.

    Raises :class:`ValueError` naming ``runtime.scheduler_address`` when the local executor is
    given one, and :class:`OSError` when the scheduler cannot be reached."""
    if config.executor == "local":
        if config.scheduler_address is not None:
            raise ValueError(f"runtime.scheduler_address {config.scheduler_address!r} is for runtime.executor: dask (executor is local)")
        if config.workers == 1:
            yield SerialExecutor()
            return
        pool = ProcessPoolExecutor(config.workers)
        pool.width = config.workers
        try:
            yield pool
        finally:
            pool.shutdown(cancel_futures=True)
        return
    with dask_client(config) as client:
        executor = client.get_executor(pure=False)
        executor.width = max(1, sum(client.nthreads().values()))
        log.info("the Dask cluster runs %d shard(s) at once", executor.width)
        yield executor


@contextmanager
def dask_client(config: ExecutorConfig) -> Iterator[Any]:
    """A ``distributed.Client`` on ``config.scheduler_address``, or on a new LocalCluster of
    ``config.workers`` single-threaded processes (closed with the block)."""
    from distributed import Client, LocalCluster

    if config.scheduler_address is not None:
        log.info("shards run on the Dask cluster at %s", config.scheduler_address)
        try:
            client = Client(config.scheduler_address, timeout="30s")
        except OSError as error:
            raise OSError(f"runtime.scheduler_address {config.scheduler_address}: no Dask scheduler answered ({error})") from error
        with client:
            yield client
        return
    log.info("shards run on a Dask LocalCluster of %d worker process(es)", config.workers)
    with (
        LocalCluster(n_workers=config.workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        yield client
