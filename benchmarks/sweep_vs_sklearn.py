"""digitlab sweep vs the scikit-learn loop a learner writes, timed in one process.

The loop: for every test size and seed, ``train_test_split``; for every k, fit a
``KNeighborsClassifier`` and predict the test part. digitlab: one ``sweep`` call
(one exact ranking, every split and k read off it). Both produce every prediction;
the script checks they agree and prints the speed ratio.

    python benchmarks/sweep_vs_sklearn.py                 # digits, then MNIST 10k
    python benchmarks/sweep_vs_sklearn.py --skip-mnist
    python benchmarks/sweep_vs_sklearn.py --mnist-repeats 5

Targets: ≥ 100× on the digits' default grid (5 test sizes × k 1..15 × 20 seeds =
1,500 cells); ≥ 20× on the 10,000 MNIST test digits with 5 seeds (375 cells).
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

import digitlab
from digitlab.data import Dataset
from digitlab.sweep import (
    DEFAULT_KS,
    DEFAULT_TEST_SIZES,
    rank_all,
    split_neighbors,
    vote_every_k,
)

# ../shared/data/mnist from the main checkout (one level further from a worktree).
MNIST = next(
    (
        p / "shared" / "data" / "mnist"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "data" / "mnist").is_dir()
    ),
    Path("../shared/data/mnist"),
)


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzip): magic (dtype, ndim), big-endian sizes, then the data."""
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    ndim = raw[3]
    shape = tuple(
        int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(folder: Path) -> Dataset:
    images = read_idx(folder / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz")
    X = images.reshape(len(images), -1).astype(np.float64)
    return Dataset(X=X, y=labels.astype(np.int64), source=str(folder))


def sklearn_loop(data, test_sizes, ks, seeds):
    """The learner's loop; returns every prediction, keyed by (test_size, seed, k)."""
    predictions = {}
    for t in test_sizes:
        for seed in seeds:
            X_train, X_test, y_train, _ = train_test_split(
                data.X, data.y, test_size=t, random_state=seed
            )
            for k in ks:
                model = KNeighborsClassifier(n_neighbors=k).fit(X_train, y_train)
                predictions[t, seed, k] = model.predict(X_test)
    return predictions


def digitlab_predictions(data, test_sizes, ks, seeds):
    """Every prediction from the sweep's engine (for the agreement check only)."""
    classes, labels = np.unique(data.y, return_inverse=True)
    ranking = rank_all(data.X, len(data) - 1 if len(data) < 200 else 96)
    out = {}
    for t in test_sizes:
        for seed in seeds:
            train, test = data.split_indices(t, seed)
            dist, pos, _ = split_neighbors(ranking, train, test, max(ks))
            votes = vote_every_k(labels[train][pos], dist, ks, len(classes), "uniform")
            for j, k in enumerate(ks):
                out[t, seed, k] = classes[votes[:, j]]
    return out


def compare(name, data, repeats, sklearn_repeats=None):
    seeds = list(range(repeats))
    ks = list(DEFAULT_KS)
    sizes = list(DEFAULT_TEST_SIZES)
    cells = len(sizes) * len(ks) * len(seeds)
    print(
        f"{name}: {data.X.shape[0]} × {data.X.shape[1]}, {len(sizes)} test sizes × "
        f"k 1..15 × {len(seeds)} seeds = {cells} cells"
    )

    start = time.perf_counter()
    result = digitlab.sweep(data, repeats=repeats)
    ours = time.perf_counter() - start
    print(
        f"  digitlab.sweep:           {ours:8.3f} s  (ranking depth "
        f"{result.ranking_depth}, {result.n_direct} rows searched directly)"
    )

    start = time.perf_counter()
    theirs_pred = sklearn_loop(data, sizes, ks, seeds)
    theirs = time.perf_counter() - start
    print(f"  scikit-learn loop:        {theirs:8.3f} s")

    ours_pred = digitlab_predictions(data, sizes, ks, seeds)
    same = sum(int(np.sum(ours_pred[key] == p)) for key, p in theirs_pred.items())
    total = sum(len(p) for p in theirs_pred.values())
    y = data.y
    n_cells_equal = 0
    for row in result.rows:
        key = (row["test_size"], row["seed"], row["k"])
        _, test = data.split_indices(row["test_size"], row["seed"])
        n_cells_equal += int(np.sum(theirs_pred[key] == y[test]) == row["n_correct"])
    print(
        f"  agreement: {same} of {total} predictions equal "
        f"({100 * same / total:.4f} %); {n_cells_equal} of {cells} cells have "
        f"the same accuracy"
    )
    best = result.best()
    print(f"  best: test_size={best.test_size}, k={best.k}, mean {best.mean:.4f}")
    print(f"  speed ratio: {theirs / ours:.1f}× faster")
    return theirs / ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="digits seeds (20)")
    parser.add_argument("--mnist-repeats", type=int, default=5)
    parser.add_argument("--skip-mnist", action="store_true")
    parser.add_argument("--mnist-dir", type=Path, default=MNIST)
    args = parser.parse_args()
    compare("digits", digitlab.load_digits(), args.repeats)
    if args.skip_mnist:
        return
    if not (args.mnist_dir / "t10k-images-idx3-ubyte.gz").exists():
        print(f"MNIST skipped: not found at {args.mnist_dir}")
        return
    compare("MNIST 10k", load_mnist(args.mnist_dir), args.mnist_repeats)


if __name__ == "__main__":
    main()
