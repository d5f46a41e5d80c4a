"""Do the recipes that win on the built-in digits also win on other handwriting?

Every model is fitted on all 1,797 built-in digits, then reads pictures it has
never seen, each prepared by the same ``uci8x8`` preparation ``digitlab predict``
uses:

* the 100 drawn pictures in tests/fixtures/drawn (label = first character of the
  file name: paper, scans, chalk, blue ink, canvas drawings);
* the first N pictures of the real MNIST test set (../shared/data/mnist), when it
  is there (or where DIGITLAB_MNIST_DIR points).

The baseline is ``digitlab.default_model()`` (k=5 on all digits), the model
``predict`` and ``serve`` use. Run::

    python benchmarks/recipes_transfer.py            # N = 1000 MNIST pictures
    python benchmarks/recipes_transfer.py 300 knn svc-shift
"""

from __future__ import annotations

import gzip
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import digitlab
from digitlab.preprocess import prepare

ROOT = Path(__file__).resolve().parents[1]
DRAWN = ROOT / "tests" / "fixtures" / "drawn"
# ../shared/data/mnist from the main checkout; DIGITLAB_MNIST_DIR elsewhere.
MNIST = Path(
    os.environ.get("DIGITLAB_MNIST_DIR", ROOT.parent / "shared" / "data" / "mnist")
)


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def drawn_set():
    files = sorted(DRAWN.glob("*.*"))
    files = [f for f in files if f.suffix.lower() in (".png", ".jpg", ".jpeg")]
    X = np.vstack([prepare(f, "uci8x8") for f in files])
    return X, np.array([int(f.name[0]) for f in files])


def mnist_set(n: int):
    images = MNIST / "t10k-images-idx3-ubyte.gz"
    if not images.exists():
        return None
    pictures = _idx(images)[:n]
    labels = _idx(MNIST / "t10k-labels-idx1-ubyte.gz")[:n]
    rows, kept = [], []
    for picture, label in zip(pictures, labels, strict=True):
        try:
            rows.append(prepare(picture, "uci8x8"))
            kept.append(label)
        except digitlab.DigitlabError:  # a blank picture: counted as wrong below
            pass
    return np.vstack(rows), np.array(kept), n


def main(n_mnist: int, names: list[str]):
    data = digitlab.load_digits()
    start = time.perf_counter()
    drawn = drawn_set()
    mnist = mnist_set(n_mnist)
    print(f"prepared the pictures in {time.perf_counter() - start:.1f} s")
    models = {"default (k=5)": digitlab.default_model()}
    with threadpool_limits(limits=1):
        for name in names:
            models[name] = digitlab.RecipeModel(name).fit(data.X, data.y)
    header = f"{'model':<14} {'drawn (100)':>12}"
    if mnist:
        header += f" {'MNIST (' + str(mnist[2]) + ')':>14}"
    print(header)
    for name, model in models.items():
        with threadpool_limits(limits=1):
            line = f"{name:<14} {np.mean(model.predict(drawn[0]) == drawn[1]):>12.3f}"
            if mnist:
                right = np.sum(model.predict(mnist[0]) == mnist[1])
                line += f" {right / mnist[2]:>14.3f}"
        print(line, flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    n = int(args.pop(0)) if args and args[0].isdigit() else 1000
    main(n, args or ["knn", "knn-shift", "svc", "svc-shift"])
