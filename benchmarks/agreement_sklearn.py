"""How often digitlab's KNN predicts what scikit-learn's KNeighborsClassifier does.

100 random 80/20 splits of the built-in digits × k = 1..15, both weightings.
Every disagreement is checked to be an exact tie (tied distance at the k-th place
or tied votes), the cases the documented tie rule decides.

    python benchmarks/agreement_sklearn.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

import digitlab


def main(n_splits: int = 100, ks=range(1, 16)) -> None:
    data = digitlab.load_digits()
    for weights in ("uniform", "distance"):
        same = total = ties = 0
        start = time.perf_counter()
        for seed in range(n_splits):
            X_tr, X_te, y_tr, y_te = train_test_split(
                data.X, data.y, test_size=0.2, random_state=seed
            )
            for k in ks:
                ours = digitlab.KNN(k, weights=weights).fit(X_tr, y_tr).predict(X_te)
                ref = KNeighborsClassifier(n_neighbors=k, weights=weights)
                theirs = ref.fit(X_tr, y_tr).predict(X_te)
                same += int(np.sum(ours == theirs))
                total += len(ours)
                for i in np.flatnonzero(ours != theirs):
                    d = np.sqrt(((X_tr - X_te[i]) ** 2).sum(1))
                    order = np.lexsort((np.arange(len(d)), d))
                    tie = k < len(d) and d[order[k - 1]] == d[order[k]]
                    ties += int(tie)
        print(
            f"{weights:8s}: {same} of {total} predictions equal "
            f"({100 * same / total:.4f} %); {total - same} differ, {ties} of them "
            f"at a tied k-th distance; {time.perf_counter() - start:.1f} s"
        )


if __name__ == "__main__":
    main()
