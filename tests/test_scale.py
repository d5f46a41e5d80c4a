"""MNIST scale: the blocked exact ranking, the faiss backend and the Dask backend."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from threadpoolctl import threadpool_limits

from digitlab import DigitlabError, load_data
from digitlab.cli import main
from digitlab.neighbors import kneighbors, use


def direct_reference(X_fit, Q, k, exclude_rows=None):
    """Direct float64 distances (no matrix-product identity) and the tie rule."""
    dist, ind = [], []
    for j, q in enumerate(Q):
        d2 = ((X_fit - q) ** 2).sum(axis=1)
        if exclude_rows is not None:
            d2[exclude_rows[j]] = np.inf
        order = np.lexsort((np.arange(len(X_fit)), d2))[:k]
        dist.append(np.sqrt(d2[order]))
        ind.append(order)
    return np.array(dist), np.array(ind)


@pytest.fixture(scope="module")
def mnist_2000(mnist_dir):
    return load_data(str(mnist_dir / "t10k-images-idx3-ubyte.gz")).X[:2000]


def tie_heavy(seed=0):
    """Integer rows with many exact ties: 30 copies of a few rows plus noise rows."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 4, size=(6, 5)).astype(float)
    X = np.concatenate([np.repeat(base, 30, axis=0), rng.integers(0, 4, (120, 5))])
    return X[rng.permutation(len(X))].astype(float)


def test_mnist_ranking_is_exact(mnist_2000):
    X = mnist_2000
    dist, ind = kneighbors(X, X, 16, exclude_self=True, block_bytes=40 * 2**20)
    rows = np.arange(0, 2000, 13)
    ref_d, ref_i = direct_reference(X, X[rows], 16, exclude_rows=rows)
    assert np.array_equal(ind[rows], ref_i)
    assert np.array_equal(dist[rows], ref_d)  # exact, not approximately equal


def test_ties_far_beyond_k_follow_the_tie_rule():
    X = tie_heavy()
    for block_bytes in (2**30, 4096):
        dist, ind = kneighbors(X, X, 40, exclude_self=True, block_bytes=block_bytes)
        ref_d, ref_i = direct_reference(X, X, 40, exclude_rows=np.arange(len(X)))
        assert np.array_equal(ind, ref_i) and np.array_equal(dist, ref_d)
    # 29 other copies at distance 0: they come first, in row order.
    first = ind[0][:29]
    assert np.all(dist[0][:29] == 0) and np.all(np.diff(first) > 0)


def test_mnist_same_bytes_with_1_and_2_threads(mnist_2000):
    X = mnist_2000[:1200]
    out = []
    for n in (1, 2):
        with threadpool_limits(limits=n):
            out.append(kneighbors(X, X, 9, exclude_self=True, block_bytes=2**22))
    assert out[0][0].tobytes() == out[1][0].tobytes()
    assert out[0][1].tobytes() == out[1][1].tobytes()


# ---------------------------------------------------------------- faiss


@pytest.fixture(scope="module")
def faiss():
    return pytest.importorskip("faiss", reason="faiss-cpu (the fast extra) is absent")


def test_faiss_identical_to_numpy_on_mnist(faiss, mnist_2000):
    X = mnist_2000
    a = kneighbors(X, X, 16, exclude_self=True)
    b = kneighbors(X, X, 16, exclude_self=True, backend="faiss")
    assert a[1].tobytes() == b[1].tobytes() and a[0].tobytes() == b[0].tobytes()
    c = kneighbors(X[:1500], X[1500:], 5, backend="faiss")
    d = kneighbors(X[:1500], X[1500:], 5)
    assert c[1].tobytes() == d[1].tobytes() and c[0].tobytes() == d[0].tobytes()


@pytest.mark.parametrize("kind", ["ties", "float"])
def test_faiss_identical_to_numpy_with_ties_and_floats(faiss, digits, kind):
    if kind == "ties":
        X = tie_heavy(1)
    else:
        rng = np.random.default_rng(2)
        X = digits.X[:600] + rng.normal(scale=0.01, size=(600, 64))
    a = kneighbors(X, X, 12, exclude_self=True)
    b = kneighbors(X, X, 12, exclude_self=True, backend="faiss")
    assert a[1].tobytes() == b[1].tobytes() and a[0].tobytes() == b[0].tobytes()


def test_faiss_other_metrics_are_a_clear_error(faiss, digits):
    with pytest.raises(DigitlabError, match="ranks euclidean distances only"):
        kneighbors(digits.X, digits.X[:3], 3, metric="manhattan", backend="faiss")


def test_cli_backend_faiss_same_json(faiss, digits):
    from sklearn.neighbors import KNeighborsClassifier

    split = digits.split(test_size=0.2, seed=0)
    sk = KNeighborsClassifier(3).fit(split.X_train, split.y_train)
    runner = CliRunner()
    args = ["train", "--k", "3", "--json"]
    plain = runner.invoke(main, args)
    fast = runner.invoke(main, [*args, "--backend", "faiss"])
    assert plain.exit_code == 0 and fast.exit_code == 0, fast.output
    assert json.loads(fast.output)["accuracy"] == sk.score(split.X_test, split.y_test)
    assert fast.output == plain.output


def test_unknown_backend():
    with pytest.raises(DigitlabError, match="Unknown backend 'gpu'"):
        kneighbors(np.eye(3), np.eye(3), 1, backend="gpu")


# ---------------------------------------------------------------- Dask


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed", reason="the dask extra is absent")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.mark.slow
def test_dask_blocks_are_byte_identical(dask_client, digits):
    X = digits.X
    rng = np.random.default_rng(4)
    Xf = X + rng.normal(scale=0.01, size=X.shape)
    cases = [
        dict(X_fit=X, X_query=X, k=10, exclude_self=True),
        dict(X_fit=Xf, X_query=Xf, k=7, exclude_self=True),
        dict(X_fit=X[:1200], X_query=X[1200:], k=5, metric="cosine"),
    ]
    for case in cases:
        alone = kneighbors(**case, block_bytes=2**23)  # 8 blocks: 8 tasks
        spread = kneighbors(**case, block_bytes=2**23, dask=dask_client)
        assert alone[0].tobytes() == spread[0].tobytes()
        assert alone[1].tobytes() == spread[1].tobytes()
    # The blocks really ran on both workers.
    assert len(dask_client.scheduler_info()["workers"]) == 2


@pytest.mark.slow
def test_cli_dask_address_same_output(dask_client):
    runner = CliRunner()
    args = ["train", "--k", "1", "--json"]
    plain = runner.invoke(main, args)
    spread = runner.invoke(main, [*args, "--dask", dask_client.scheduler.address])
    assert spread.exit_code == 0, spread.output
    assert spread.output == plain.output
    assert json.loads(spread.output)["accuracy"] == 0.9888888888888889


def test_dask_bad_specs_are_one_line():
    pytest.importorskip("distributed", reason="the dask extra is absent")
    runner = CliRunner()
    result = runner.invoke(main, ["train", "--dask", "local:zero"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: --dask 'local:zero': give the number")


@pytest.mark.slow
def test_sweep_on_dask_is_byte_identical(dask_client, digits):
    from digitlab.sweep import sweep

    options = dict(test_sizes=(0.2, 0.4), ks=(1, 3, 5), repeats=3)
    alone = sweep(digits, **options)
    with use(dask=dask_client):
        spread = sweep(digits, **options)
    assert json.dumps(spread.to_dict(), sort_keys=True) == json.dumps(
        alone.to_dict(), sort_keys=True
    )
    assert len(spread.rows) == 2 * 3 * 3
