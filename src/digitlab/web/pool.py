"""Where the picture work of the web app runs: a thread, or worker processes.

Decoding, preparing and ranking a picture is CPU work that holds the GIL, so
the requests of one process cannot share the CPU usefully. Both kinds of
:class:`Pictures` therefore work on one picture at a time per process, in
arrival order, and keep the event loop free to read and answer requests:

* :class:`InProcess` (``digitlab serve``): a worker thread of the server.
* :class:`ProcessPool` (``digitlab serve --workers N``): N worker processes
  take pictures from one queue in the server, so no worker idles while another
  has a backlog (uvicorn's own ``--workers`` gives each process whole
  connections, and one process can end up with all of them). The model is
  written once to a temporary model file that every worker loads. Each worker
  has a pipe to the server's event loop: the picture's bytes go one way, the
  answer's JSON (or the one-sentence error) comes back, as plain bytes; the
  server needs no extra threads for it.

Both answer :class:`~digitlab.web.schemas.Prediction` JSON, and both learn
the user's examples live (:meth:`Pictures.teach`): in-process the model gains
the rows at once; with worker processes the server prepares the picture once,
learns it itself and sends the prepared row to every worker, ahead of any
picture sent after it, so the next prediction of every worker uses it. A
worker started later (a replacement) is sent every row learned since the
start in one message before its first picture.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import os
import tempfile
import traceback
from pathlib import Path

import numpy as np
from pydantic_core import to_json

from digitlab.errors import DigitlabError
from digitlab.examples import learner, teach_row
from digitlab.web.service import describe_model, explain, open_picture

__all__ = [
    "InProcess",
    "Pictures",
    "ProcessPool",
    "WorkerError",
    "freeze_heap",
    "check_workers",
    "make_pictures",
    "max_workers",
    "one_blas_thread",
    "prediction_json",
]


def one_blas_thread() -> None:
    """Limit BLAS to one thread in this process.

    A request ranks one row against the training rows: a product too small to
    share, so extra BLAS threads only spin and take the CPU from the requests
    being served beside it.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def prediction_json(model, data: bytes, name: str, info: dict) -> bytes:
    """Open picture bytes, explain the model's answer, as Prediction JSON.

    :func:`explain` builds exactly the :class:`Prediction` fields from plain
    Python values, so they are written as they are (pydantic's own JSON writer,
    without building the model first: the same bytes, 20 µs sooner; the tests
    check every answer against the schema).
    """
    return to_json(explain(model, open_picture(data, name=name), info=info))


class Pictures:
    """Turns picture bytes into the JSON of a :class:`Prediction`."""

    async def predict(self, data: bytes, name: str) -> bytes:
        """Prediction JSON for the picture; a user mistake raises DigitlabError."""
        raise NotImplementedError

    async def teach(self, picture, label, folder) -> dict:
        """Learn ``picture`` as ``label`` (saved into ``folder`` when given):
        :func:`digitlab.examples.teach`; answers its dict."""
        raise NotImplementedError

    async def start(self) -> None:
        """Get ready (called once, in the app's lifespan)."""

    async def close(self) -> None:
        """Stop whatever :meth:`start` started."""


class InProcess(Pictures):
    """Pictures worked on in a worker thread of this process, one at a time."""

    def __init__(self, model, info: dict):
        self.model, self.info = model, info
        self._limiter = None

    def _one_at_a_time(self):
        import anyio

        if self._limiter is None:  # created inside the event loop
            self._limiter = anyio.CapacityLimiter(1)
        return self._limiter

    async def predict(self, data: bytes, name: str) -> bytes:
        import anyio.to_thread

        call = functools.partial(prediction_json, self.model, data, name, self.info)
        return await anyio.to_thread.run_sync(call, limiter=self._one_at_a_time())

    async def teach(self, picture, label, folder) -> dict:
        import anyio.to_thread

        # In the same thread as the pictures: no ranking runs while rows grow.
        call = functools.partial(teach_row, self.model, picture, label, folder=folder)
        result, _, _ = await anyio.to_thread.run_sync(
            call, limiter=self._one_at_a_time()
        )
        return result


class WorkerError(DigitlabError):
    """A user mistake found by a worker process, with the status it asks for."""

    def __init__(self, message: str, status_code: int = 422):
        super().__init__(message)
        self.status_code = status_code


# The messages between the server and a worker (bytes, so nothing is pickled):
# to the worker: b"P" + 4-byte length of the name, the name, the picture's
# bytes; or b"A" + examples to learn: 4-byte count n, 4-byte row width d, n
# class indices (int64), n*d values (float64), all little-endian;
# back: b"J" + Prediction JSON (or, for b"A", the example count as JSON),
# b"E" + 3-digit status + sentence (a user mistake), or b"X" + traceback (a bug).


def _request(data: bytes, name: str) -> bytes:
    encoded = name.encode()
    return b"P" + len(encoded).to_bytes(4, "big") + encoded + data


def _examples_message(rows: np.ndarray, class_indices: np.ndarray) -> bytes:
    rows = np.ascontiguousarray(rows, dtype="<f8")
    n, d = rows.shape
    head = b"A" + n.to_bytes(4, "big") + d.to_bytes(4, "big")
    return head + np.asarray(class_indices, dtype="<i8").tobytes() + rows.tobytes()


def _read_examples(message: bytes) -> tuple[np.ndarray, np.ndarray]:
    n = int.from_bytes(message[1:5], "big")
    d = int.from_bytes(message[5:9], "big")
    indices = np.frombuffer(message, dtype="<i8", count=n, offset=9)
    rows = np.frombuffer(message, dtype="<f8", count=n * d, offset=9 + 8 * n)
    return rows.reshape(n, d).astype(np.float64), indices


def _learn(model, message: bytes) -> bytes:
    """A worker learns the examples of a b"A" message, as the server did."""
    from digitlab.examples import _add_rows

    rows, indices = _read_examples(message)
    knn = learner(model)
    _add_rows(model, rows, knn.classes_[indices])
    return b'{"n_examples": %d}' % knn.n_examples_


def freeze_heap() -> None:
    """Exempt what is loaded by now (modules, the model) from garbage collection.

    A server's objects live as long as it does; without this, each full
    collection walks all of them again, a pause of milliseconds in the middle
    of some request.
    """
    import gc

    gc.collect()
    gc.freeze()


def _warm_up(model, info: dict) -> None:  # pragma: no cover - runs in a worker
    """Answer one drawn bar, so the first real picture pays for no imports and
    no ranking data."""
    import io

    from PIL import Image, ImageDraw

    picture = Image.new("L", (140, 140), 255)
    ImageDraw.Draw(picture).line([(70, 20), (70, 120)], fill=0, width=11)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    # A model that cannot read pictures says so to each request instead.
    with contextlib.suppress(DigitlabError):
        prediction_json(model, buffer.getvalue(), "a warm-up bar", info)


def _worker_main(
    conn, path: str, examples: tuple[int, int] = (0, 0)
) -> None:  # pragma: no cover - runs in a worker
    """A worker process: load the model, then answer pictures until EOF.

    The model file holds the server's model as it was at the start, with its
    examples as plain rows; ``examples`` (how many, and the first row that is
    one) marks them as the user's again, so its answers say which neighbors are.
    """
    import signal

    from digitlab.examples import mark_examples
    from digitlab.modelfile import load_model

    # Ctrl+C (and a stop signal sent to the whole group) are the server's to
    # handle: it closes the pipe, and the worker ends when it reads EOF.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    one_blas_thread()
    model = load_model(path)
    mark_examples(model, *examples)
    info = describe_model(model)
    _warm_up(model, info)
    freeze_heap()
    conn.send_bytes(b"ready")
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            if message[:1] == b"A":
                reply = b"J" + _learn(model, message)
            else:
                size = int.from_bytes(message[1:5], "big")
                name = message[5 : 5 + size].decode()
                picture = message[5 + size :]
                reply = b"J" + prediction_json(model, picture, name, info)
        except DigitlabError as exc:
            status = getattr(exc, "status_code", 422)
            reply = b"E" + f"{status:03d}{exc}".encode()
        except Exception:
            reply = b"X" + traceback.format_exc().encode()
        conn.send_bytes(reply)


def _retrieve(future: asyncio.Future) -> None:
    """Mark a future nobody awaits as seen (no 'exception never retrieved')."""
    if not future.cancelled():
        future.exception()


class _Worker:
    def __init__(self, process, conn):
        self.process, self.conn = process, conn
        # (message, future) of the pictures sent, in the order it answers them.
        self.jobs: collections.deque = collections.deque()
        self.ready = False


class ProcessPool(Pictures):
    """Pictures worked on by ``n`` worker processes fed from one queue.

    Each worker is sent its next picture before it has answered the current
    one (at most ``DEPTH`` at a time), so it never waits for the server's event
    loop to get the CPU back. A worker that dies (killed, out of memory) is
    replaced; the picture it was working on is answered 503 ("send it again"),
    the ones waiting behind it go to the other workers.
    """

    DEPTH = 2

    def __init__(self, model, n: int):
        self.model, self.n = model, n
        self._folder = None
        self._workers: list[_Worker] = []
        self._queue: collections.deque = collections.deque()
        self._closing = False
        # The examples learned since start(), for workers started after them.
        self._learned_rows: list[np.ndarray] = []
        self._learned_classes: list[int] = []
        self._examples_at_start = (0, 0)
        self._teaching = None

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (for tests and monitoring)."""
        return [w.process.pid for w in self._workers]

    async def start(self) -> None:
        from digitlab.modelfile import save_model

        if os.name != "posix":
            raise DigitlabError(
                "--workers above 1 needs Linux or macOS; use --workers 1 here."
            )
        self._closing = False
        self._folder = tempfile.TemporaryDirectory(prefix="digitlab-serve-")
        save_model(self.model, self._model_path())
        self._examples_at_start = _examples_held(self.model)
        self._learned_rows, self._learned_classes = [], []
        ready = [self._spawn() for _ in range(self.n)]
        # Every worker started and its model loaded before the first request.
        await asyncio.gather(*ready)

    def _model_path(self) -> str:
        return str(Path(self._folder.name) / "model.npz")

    def _spawn(self) -> asyncio.Future:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(
            target=_worker_main,
            args=(theirs, self._model_path(), self._examples_at_start),
            name="digitlab-picture-worker",
            daemon=True,
        )
        process.start()
        theirs.close()
        worker = _Worker(process, ours)
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        worker.jobs.append((None, ready))
        self._workers.append(worker)
        loop.add_reader(ours.fileno(), self._on_reply, worker)
        return ready

    def _on_reply(self, worker: _Worker) -> None:
        try:
            reply = worker.conn.recv_bytes()
        except (EOFError, OSError):
            self._lost(worker)
            return
        _, job = worker.jobs.popleft()
        started = not worker.ready
        worker.ready = True
        if not job.done():
            job.set_result(reply)
        if started and self._learned_rows:
            # Started after examples were learned: all of them, before any picture.
            message = _examples_message(
                np.vstack(self._learned_rows), np.array(self._learned_classes)
            )
            # Pictures sent after it (the pipe keeps the order) see them all.
            self._send_examples(worker, message)
        self._dispatch()

    def _send_examples(self, worker: _Worker, message: bytes):
        """Send examples to learn to one worker; the future of its reply, or
        None if it is gone."""
        future = asyncio.get_running_loop().create_future()
        try:
            worker.conn.send_bytes(message)
        except OSError:
            self._lost(worker)
            return None
        worker.jobs.append((message, future))
        return future

    def _dispatch(self) -> None:
        while self._queue:
            ready = [w for w in self._workers if w.ready and len(w.jobs) < self.DEPTH]
            if not ready:
                return
            worker = min(ready, key=lambda w: len(w.jobs))  # idle ones first
            message, job = self._queue.popleft()
            if job.done():  # the client went away while it waited
                continue
            try:
                worker.conn.send_bytes(message)
            except OSError:  # it died before its pipe's end was noticed
                self._queue.appendleft((message, job))
                self._lost(worker)
                continue
            worker.jobs.append((message, job))

    def _lost(self, worker: _Worker) -> None:
        asyncio.get_running_loop().remove_reader(worker.conn.fileno())
        worker.conn.close()
        worker.process.join(timeout=5)
        self._workers.remove(worker)
        # Examples it was learning are not sent to the others (they have them);
        # a replacement is sent every example learned since the start.
        for message, job in worker.jobs:
            if message is not None and message[:1] == b"A" and not job.done():
                job.set_result(b"J{}")
        worker.jobs = collections.deque(
            (m, j) for m, j in worker.jobs if m is None or m[:1] != b"A"
        )
        if worker.jobs:
            _, current = worker.jobs.popleft()
            if not current.done():
                if worker.ready:
                    message = (
                        "The worker preparing this picture stopped; send it again."
                    )
                else:
                    message = (
                        "A picture worker could not start; see the server's output."
                    )
                current.set_exception(WorkerError(message, 503))
            # The pictures it had not started go back to the front of the queue.
            self._queue.extendleft(reversed(worker.jobs))
            worker.jobs.clear()
        if worker.ready and not self._closing:
            # A replacement; one that never started is not retried.
            self._spawn().add_done_callback(_retrieve)
        if not self._workers:  # nobody left to take the waiting pictures
            while self._queue:
                _, job = self._queue.popleft()
                if not job.done():
                    job.set_exception(
                        WorkerError(
                            "No picture worker is running; restart the server.", 503
                        )
                    )
        elif not self._closing:
            self._dispatch()

    async def predict(self, data: bytes, name: str) -> bytes:
        job = asyncio.get_running_loop().create_future()
        self._queue.append((_request(data, name), job))
        self._dispatch()
        reply = await job
        kind, body = reply[:1], reply[1:]
        if kind == b"J":
            return body
        if kind == b"E":
            raise WorkerError(body[3:].decode(), int(body[:3]))
        raise RuntimeError("A picture worker failed:\n" + body.decode())

    async def teach(self, picture, label, folder) -> dict:
        import anyio
        import anyio.to_thread

        if self._teaching is None:  # created inside the event loop
            self._teaching = anyio.CapacityLimiter(1)
        # The server prepares and learns it once (its model is what /api/model
        # describes and what a replacement worker is started from) ...
        call = functools.partial(teach_row, self.model, picture, label, folder=folder)
        result, row, class_index = await anyio.to_thread.run_sync(
            call, limiter=self._teaching
        )
        self._learned_rows.append(row[None])
        self._learned_classes.append(class_index)
        # ... and every running worker learns the same row, ahead of any picture
        # sent after this one (each worker reads its pipe in order).
        message = _examples_message(row[None], np.array([class_index]))
        replies = []
        for worker in list(self._workers):
            if worker.ready:
                future = self._send_examples(worker, message)
                if future is not None:
                    replies.append(future)
        for reply in await asyncio.gather(*replies):
            if reply[:1] != b"J":
                raise RuntimeError("A picture worker failed:\n" + reply[1:].decode())
        return result

    async def close(self) -> None:
        self._closing = True
        loop = asyncio.get_running_loop()
        for worker in self._workers:
            loop.remove_reader(worker.conn.fileno())
            worker.conn.close()  # the worker reads EOF and ends
        for worker in self._workers:
            await asyncio.to_thread(worker.process.join, 10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        for _, job in self._queue:
            job.cancel()
        self._workers = []
        self._queue.clear()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


def _examples_held(model) -> tuple[int, int]:
    """How many examples ``model`` holds, and its first row that is one."""
    try:
        knn = learner(model)
    except DigitlabError:  # a model that does not learn examples
        return 0, 0
    return int(knn.n_examples_), int(knn._n_fitted)


def max_workers() -> int:
    """The most picture worker processes this machine is allowed: 4 per CPU core.

    Each worker holds its own copy of the model; more than a few per core only
    adds processes competing for the same cores (and memory), so a typo like
    ``--workers 100000`` is refused instead of forking until memory runs out.
    """
    return 4 * (os.cpu_count() or 1)


def check_workers(workers) -> int:
    """``workers`` when it is a whole number from 1 to :func:`max_workers`."""
    top = max_workers()
    if (
        isinstance(workers, bool)
        or not isinstance(workers, int)
        or not 1 <= workers <= top
    ):
        raise DigitlabError(
            f"--workers must be a whole number from 1 to {top} (4 per CPU core of "
            f"this machine), got {workers!r}; about one per core serves a class."
        )
    return workers


def make_pictures(model, info: dict, workers: int = 1) -> Pictures:
    """:class:`InProcess` for one worker, else a :class:`ProcessPool`."""
    check_workers(workers)
    if workers == 1:
        return InProcess(model, info)
    return ProcessPool(model, workers)
