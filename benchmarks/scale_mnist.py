"""MNIST scale: digitlab's exact neighbor ranking against the matrix-product floor.

Any exact all-pairs method pays at least one n × n × 784 matrix product. This
script times, in the same run and on the same data:

* the floor: a bare float64 all-pairs matrix product of the same size,
  ``X @ Y.T`` with ``Y`` a copy of ``X`` (general GEMM); and numpy's
  ``X @ X.T`` shortcut, which notices the symmetry and computes only half
  (SYRK), shown as a stricter second floor. At 40,000 rows both are done in
  blocks (the full 40,000² result would take 12.8 GB): row blocks for GEMM,
  square blocks on and above the diagonal for the half;
* digitlab's full ranking as ``sweep`` needs it: ``kneighbors(X, X, k=16,
  exclude_self=True)`` with the numpy backend (bounded-memory blocks);
* the same ranking with ``backend="faiss"`` (when faiss-cpu is installed).

It prints the ratios (target: numpy within 2× of the floor), checks that the
ranking is exact against a direct float64 reference on a sample of rows that
includes ties, and shows how time grows with n = 2,500 / 5,000 / 10,000 and on
40,000 rows made of the real digits and three shifted copies of them.

Run from the project root::

    python benchmarks/scale_mnist.py [--mnist ../shared/data/mnist] [--quick]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from digitlab.data import load_idx
from digitlab.neighbors import DEFAULT_BLOCK_BYTES, _block_rows, kneighbors

K = 16
ROOT = Path(__file__).resolve().parents[1]


def floor_seconds(X: np.ndarray, symmetric: bool = False) -> float:
    """A bare all-pairs float64 matrix product (SYRK half when ``symmetric``)."""
    n = len(X)
    Y = X if symmetric else X.copy()
    start = time.perf_counter()
    if n <= 10_000:
        G = X @ Y.T
        del G
    elif not symmetric:  # row blocks, one reused output buffer: products only
        rows = _block_rows(n, X.shape[1], DEFAULT_BLOCK_BYTES)
        out = np.empty((rows, n))
        for a in range(0, n, rows):
            b = min(n, a + rows)
            np.matmul(X[a:b], Y.T, out=out[: b - a])
    else:  # the half: square blocks on and above the diagonal only
        side = 2048
        out = np.empty((side, side))
        for a in range(0, n, side):
            for b in range(a, n, side):
                block_a, block_b = X[a : a + side], X[b : b + side]
                np.matmul(block_a, block_b.T, out=out[: len(block_a), : len(block_b)])
    return time.perf_counter() - start


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def reference(X: np.ndarray, rows: np.ndarray, k: int):
    """Direct float64 distances (no matrix-product identity), exact tie rule."""
    d_out = np.empty((len(rows), k))
    i_out = np.empty((len(rows), k), dtype=np.intp)
    index = np.arange(len(X))
    for j, r in enumerate(rows):
        d2 = ((X - X[r]) ** 2).sum(axis=1)
        d2[r] = np.inf
        order = np.lexsort((index, d2))[:k]
        d_out[j], i_out[j] = np.sqrt(d2[order]), order
    return d_out, i_out


def tie_rows(dist, n_random, seed=0):
    """Rows with equal distances inside their top k, plus a random sample."""
    tied = np.flatnonzero(np.any(dist[:, 1:] == dist[:, :-1], axis=1))
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(dist), size=n_random, replace=False)
    return tied, np.unique(np.concatenate([tied[:100], sample]))


def check_exact(X, dist, ind, label):
    tied, rows = tie_rows(dist, 200)
    ref_d, ref_i = reference(X, rows, K)
    same_i = np.array_equal(ind[rows], ref_i)
    same_d = np.array_equal(dist[rows], ref_d)
    print(
        f"  exactness ({label}): {len(rows)} rows checked against direct float64 "
        f"distances ({min(len(tied), 100)} of {len(tied)} rows with ties): "
        f"indices {'identical' if same_i else 'DIFFERENT'}, distances "
        f"{'identical' if same_d else 'DIFFERENT'}"
    )
    return same_i and same_d


def shifted_copies(images: np.ndarray) -> np.ndarray:
    """The digits and three copies moved by one pixel (right, down, down-right)."""
    out = [images]
    for dy, dx in ((0, 1), (1, 0), (1, 1)):
        moved = np.zeros_like(images)
        moved[:, dy:, dx:] = images[:, : images.shape[1] - dy, : images.shape[2] - dx]
        out.append(moved)
    stacked = np.concatenate(out)
    return stacked.reshape(len(stacked), -1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", default=str(ROOT.parent / "shared/data/mnist"))
    parser.add_argument("--quick", action="store_true", help="skip 40,000 rows")
    args = parser.parse_args()
    try:
        import faiss  # noqa: F401

        backends = ("numpy", "faiss")
    except ImportError:
        backends = ("numpy",)
        print("faiss-cpu is not installed: numpy backend only")
    data = load_idx(Path(args.mnist) / "t10k-images-idx3-ubyte.gz")
    kneighbors(data.X[:500], data.X[:500], K, exclude_self=True)  # warm up
    print(
        f"MNIST test set {data.X.shape}, k={K}, exclude_self; {os.cpu_count()} "
        f"CPUs; block budget {DEFAULT_BLOCK_BYTES >> 20} MiB"
    )
    sizes = [2_500, 5_000, 10_000]
    sets = [(f"MNIST first {n:,}", data.X[:n]) for n in sizes]
    if not args.quick:
        sets.append(("40,000 shifted copies", shifted_copies(data.images)))
    header = f"{'data':22s} {'n':>6s} {'GEMM s':>7s} {'SYRK s':>7s}"
    for b in backends:
        header += f" {b + ' s':>8s} {'×GEMM':>6s} {'×SYRK':>6s}"
    print(header)
    all_exact = True
    results = {}
    for label, X in sets:
        floor = floor_seconds(X)
        half = floor_seconds(X, symmetric=True)
        line = f"{label:22s} {len(X):6d} {floor:7.2f} {half:7.2f}"
        outs = {}
        for b in backends:
            seconds, outs[b] = timed(
                lambda X=X, b=b: kneighbors(X, X, K, exclude_self=True, backend=b)
            )
            line += f" {seconds:8.2f} {seconds / floor:5.2f}× {seconds / half:5.2f}×"
            results[(label, b)] = seconds
        print(line, flush=True)
        if len(backends) == 2:
            same = all(
                np.array_equal(a, b)
                for a, b in zip(outs["numpy"], outs["faiss"], strict=True)
            )
            print(f"  faiss result identical to numpy: {same}")
            all_exact &= same
        if len(X) in (10_000, 40_000):
            all_exact &= check_exact(X, *outs["numpy"], label)
    print("all checks passed" if all_exact else "SOME CHECK FAILED")
    numpy_times = [results[(label, "numpy")] for label, _ in sets]
    print(
        "growth (numpy): "
        + ", ".join(
            f"n={len(X):,}: {t:.2f} s"
            for (_, X), t in zip(sets, numpy_times, strict=True)
        )
        + " (all-pairs work grows as n²: ×4 per doubling, ×16 from 10,000 to 40,000)"
    )
    return 0 if all_exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
