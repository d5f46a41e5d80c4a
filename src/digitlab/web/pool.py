"""Where the picture work of the web app runs: a thread, or worker processes.

Decoding, preparing and ranking a picture is CPU work that holds the GIL, so
the requests of one process cannot share the CPU usefully. Both kinds of
:class:`Pictures` therefore run one picture at a time per process, in arrival
order, and keep the event loop free to read and answer requests:

* :class:`InProcess` (``digitlab serve``): a worker thread of the server.
* :class:`ProcessPool` (``digitlab serve --workers N``): N worker processes
  take pictures from one shared queue, so no worker idles while another has a
  backlog (uvicorn's own ``--workers`` gives each process whole connections,
  and one process can end up with all of them). The model is written once to
  a temporary model file that every worker loads.
"""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from digitlab.web.service import describe_model, explain, open_picture

__all__ = ["InProcess", "Pictures", "ProcessPool", "make_pictures", "one_blas_thread"]


def one_blas_thread() -> None:
    """Limit BLAS to one thread in this process.

    A request ranks one row against the training rows: a product too small to
    share, so extra BLAS threads only spin and take the CPU from the requests
    being served beside it.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def _open_and_explain(model, data: bytes, name: str, info: dict) -> dict:
    return explain(model, open_picture(data, name=name), info=info)


class Pictures:
    """Runs :func:`~digitlab.web.service.explain` on picture bytes."""

    async def explain(self, data: bytes, name: str) -> dict:
        """Open the picture bytes and explain the model's answer (see ``explain``)."""
        raise NotImplementedError

    async def start(self) -> None:
        """Get ready (called once, in the app's lifespan)."""

    async def close(self) -> None:
        """Stop whatever :meth:`start` started."""


class InProcess(Pictures):
    """Pictures explained in a worker thread of this process, one at a time."""

    def __init__(self, model, info: dict):
        self.model, self.info = model, info
        self._limiter = None

    async def explain(self, data: bytes, name: str) -> dict:
        import anyio
        import anyio.to_thread

        if self._limiter is None:  # created inside the event loop
            self._limiter = anyio.CapacityLimiter(1)
        call = functools.partial(_open_and_explain, self.model, data, name, self.info)
        return await anyio.to_thread.run_sync(call, limiter=self._limiter)


# The model of a worker process, loaded once by _load_worker.
_worker: dict = {}


def _load_worker(path: str) -> None:
    from digitlab.model import load_model

    one_blas_thread()
    model = load_model(path)
    _worker["model"], _worker["info"] = model, describe_model(model)


def _worker_ready() -> int:
    return os.getpid()


def _worker_explain(data: bytes, name: str) -> dict:
    return _open_and_explain(_worker["model"], data, name, _worker["info"])


class ProcessPool(Pictures):
    """Pictures explained by ``n`` worker processes that share one queue.

    A worker that dies (killed, out of memory) breaks the pool; the next
    picture starts a new pool and is sent there, so the server keeps answering.
    """

    def __init__(self, model, n: int):
        self.model, self.n = model, n
        self._folder = None
        self._executor: ProcessPoolExecutor | None = None

    def _new_executor(self) -> ProcessPoolExecutor:
        import multiprocessing

        return ProcessPoolExecutor(
            max_workers=self.n,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load_worker,
            initargs=(str(Path(self._folder.name) / "model.npz"),),
        )

    async def start(self) -> None:
        from digitlab.model import save_model

        self._folder = tempfile.TemporaryDirectory(prefix="digitlab-serve-")
        save_model(self.model, Path(self._folder.name) / "model.npz")
        self._executor = self._new_executor()
        await self._warm_up()

    async def _warm_up(self) -> None:
        # All workers started and their model loaded before the first request.
        loop = asyncio.get_running_loop()
        jobs = [
            loop.run_in_executor(self._executor, _worker_ready) for _ in range(self.n)
        ]
        await asyncio.gather(*jobs)

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (for tests and monitoring)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return sorted(processes)

    async def explain(self, data: bytes, name: str) -> dict:
        loop = asyncio.get_running_loop()
        executor = self._executor
        try:
            return await loop.run_in_executor(executor, _worker_explain, data, name)
        except BrokenProcessPool:
            if self._executor is executor:  # the first to notice replaces it
                self._executor = self._new_executor()
                executor.shutdown(wait=False, cancel_futures=True)
            return await loop.run_in_executor(
                self._executor, _worker_explain, data, name
            )

    async def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


def make_pictures(model, info: dict, workers: int = 1) -> Pictures:
    """:class:`InProcess` for one worker, else a :class:`ProcessPool`."""
    if workers == 1:
        return InProcess(model, info)
    return ProcessPool(model, workers)
