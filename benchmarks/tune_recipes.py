"""How the recipes' parameters were chosen: a small grid on *other* splits.

The accuracies ``digitlab compare`` reports come from splits with seeds 0..19.
Parameters were chosen here on splits with seeds 100..109 (the same 80/20 shape,
different rows in the test part), so no choice looked at the reported test parts.

    python benchmarks/tune_recipes.py            # the whole grid (~30 min on 2 cores)
    python benchmarks/tune_recipes.py knn-pca    # one recipe's grid
"""

from __future__ import annotations

import sys
import time

import numpy as np

import digitlab
from digitlab.recipes import make_estimator

TUNING_SEEDS = range(100, 110)

GRID = {
    "knn-distance": [{"k": k} for k in (2, 3, 4, 5, 6, 8)],
    "knn-pca": [
        {"n_components": n, "metric": m}
        for n in (20, 30, 40)
        for m in ("euclidean", "cosine")
    ],
    "knn-deskew": [{"metric": m} for m in ("euclidean", "cosine")],
    # k=1 first (augmentation settings), then k and votes for the best of those
    "knn-shift": [
        {"k": 1, "weights": "uniform", "metric": m, "half_shifts": h, "angles": a}
        for m in ("euclidean", "cosine")
        for h in (False, True)
        for a in ([], [-10.0, 10.0], [-15.0, -7.5, 7.5, 15.0])
    ]
    + [
        {"k": k, "weights": "distance", "metric": m}
        for m in ("euclidean", "cosine")
        for k in (2, 3, 4, 6)
    ],
    "svc": [
        {"C": c, "gamma": g} for c in (1.0, 10.0, 100.0) for g in (5e-4, 1e-3, 2e-3)
    ],
    "svc-shift": [
        {"C": c, "gamma": g, "half_shifts": h}
        for c, g in ((10.0, 1e-3), (10.0, 5e-4))
        for h in (False, True)
    ]
    + [
        {"C": 10.0, "gamma": 2e-3},
        {"C": 10.0, "gamma": 1e-3, "angles": [-10.0, 10.0]},
        {"C": 100.0, "gamma": 1e-3},
        {"C": 10.0, "gamma": 1.5e-3},
    ],
    "logreg": [{"C": c} for c in (0.1, 1.0, 10.0)],
    "mlp": [
        {"learning_rate_init": r, "alpha": a}
        for r in (1e-3, 1e-2)
        for a in (1e-4, 1e-2)
    ],
}


def score(name, params, data):
    accuracies = []
    for seed in TUNING_SEEDS:
        split = data.split(test_size=0.2, seed=seed)
        model = make_estimator(name, params).fit(split.X_train, split.y_train)
        accuracies.append(np.mean(model.predict(split.X_test) == split.y_test))
    return float(np.mean(accuracies))


def main(names):
    data = digitlab.load_digits()
    for name in names:
        results = []
        for params in GRID[name]:
            start = time.perf_counter()
            acc = score(name, params, data)
            took = time.perf_counter() - start
            results.append((acc, params))
            print(f"{name:13s} {acc:.4f}  {took:5.1f}s  {params}", flush=True)
        best = max(results, key=lambda r: r[0])
        print(f"{name:13s} BEST {best[0]:.4f} {best[1]}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(GRID))
