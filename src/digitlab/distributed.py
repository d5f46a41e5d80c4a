"""The Dask backend: neighbor-ranking blocks as tasks on a Dask cluster.

``--dask ADDRESS`` (a running ``dask scheduler``) or ``--dask local:N`` (a
``LocalCluster`` of N worker processes on this machine) makes every exact
ranking digitlab computes run as Dask tasks, one per block of query rows:

* the training rows ``X_fit`` are sent once to every worker
  (``client.scatter(..., broadcast=True)``);
* each task gets the numbers of its block (``start``, ``stop``) and, only when
  the queries are not the training rows, that block of query rows;
* each task returns its block's ``k`` distances and row numbers, never a
  distance matrix.

Every block runs the same code as on one machine
(:class:`digitlab._ranking.Ranker`), and the ranking is exact, so the results
are byte-identical to a single-machine run.

Dask is imported only here (the ``dask`` extra).
"""

from __future__ import annotations

import contextlib

from digitlab.errors import DigitlabError

__all__ = ["active_client", "connect", "rank_blocks", "run_tasks"]


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise DigitlabError(
            "--dask needs dask.distributed; install it with "
            "pip install 'digitlab[dask]'."
        ) from None
    return distributed


@contextlib.contextmanager
def connect(dask):
    """A ``distributed.Client`` for ``dask``, closed afterwards if opened here.

    Parameters
    ----------
    dask : str or distributed.Client
        ``"local:N"``: start a ``LocalCluster`` of N single-threaded worker
        processes (no dashboard). Any other string: the address of a running
        scheduler, e.g. ``"tcp://10.0.0.5:8786"``. A client is used as it is.
    """
    distributed = _import_distributed()
    if isinstance(dask, distributed.Client):
        yield dask
        return
    spec = str(dask)
    if spec.startswith("local:"):
        try:
            n_workers = int(spec.split(":", 1)[1])
        except ValueError:
            n_workers = 0
        if n_workers < 1:
            raise DigitlabError(
                f"--dask {spec!r}: give the number of local workers, e.g. local:2."
            )
        with (
            distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = distributed.Client(spec, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise DigitlabError(
            f"Cannot reach the Dask scheduler at {spec!r} ({exc}); start one with "
            "`dask scheduler` and workers with `dask worker ADDRESS`, or use "
            "--dask local:2."
        ) from None
    with client:
        yield client


_cache: dict = {}


def _ranker_on_worker(X_fit, k, metric, exclude_self, integer_exact):
    """The worker's prepared Ranker for this X_fit (prepared once per worker)."""
    from digitlab._ranking import Ranker

    key = (k, metric, exclude_self, integer_exact)
    cached = _cache.get("ranker")
    if cached is None or cached[0] is not X_fit or cached[1] != key:
        cached = (X_fit, key, Ranker(X_fit, k, metric, exclude_self, integer_exact))
        _cache["ranker"] = cached
    return cached[2]


def _rank_block_task(X_fit, Q, start, stop, k, metric, exclude_self, integer_exact):
    ranker = _ranker_on_worker(X_fit, k, metric, exclude_self, integer_exact)
    if Q is None:  # the queries are the training rows: slice them here
        Q = X_fit[start:stop]
    return ranker.block(Q, start)


def rank_blocks(
    dask, X_fit, X_query, blocks, k, *, metric, exclude_self, integer_exact
):
    """Rank each ``(start, stop)`` block of queries as one Dask task.

    ``X_query`` is ``None`` when the queries are ``X_fit`` itself (then only
    the block numbers travel). Returns the blocks' ``(values, columns)`` in
    order, exactly as :meth:`digitlab._ranking.Ranker.block` gives them.
    """
    with connect(dask) as client:
        fit = client.scatter(X_fit, broadcast=True, hash=False)
        futures = [
            client.submit(
                _rank_block_task,
                fit,
                None if X_query is None else X_query[start:stop],
                start,
                stop,
                k,
                metric,
                exclude_self,
                integer_exact,
                pure=False,
            )
            for start, stop in blocks
        ]
        try:
            return client.gather(futures)
        finally:
            client.cancel([*futures, fit])


def active_client():
    """The Dask client of the enclosing :func:`digitlab.neighbors.use`, or None.

    Inside ``use(dask=...)`` (the CLI's ``--dask``) this is the connected
    ``distributed.Client``; core code asks it to decide whether to send its
    independent pieces of work (e.g. the sweep's splits) to Dask.
    """
    from digitlab._ranking import _current

    return _current().dask


def run_tasks(dask, fn, shared: dict, items: list[dict], progress=None) -> list:
    """``fn(**item, **shared)`` for every item, as Dask tasks, results in order.

    ``shared`` values (e.g. the sweep's ranking and labels) are sent once to
    every worker; each task carries only its own ``item`` (e.g. one split's
    train and test row numbers). ``progress(done, total)`` is called as tasks
    finish.
    """
    distributed = _import_distributed()
    with connect(dask) as client:
        sent = {
            name: client.scatter(value, broadcast=True, hash=False)
            for name, value in shared.items()
        }
        futures = [client.submit(fn, **item, **sent, pure=False) for item in items]
        try:
            if progress is not None:
                for done, _ in enumerate(distributed.as_completed(futures), start=1):
                    progress(done, len(futures))
            return client.gather(futures)
        finally:
            client.cancel([*futures, *sent.values()])
