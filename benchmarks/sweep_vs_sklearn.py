"""digitlab sweep vs what a learner writes with scikit-learn, timed in one process.

Parts (each can be skipped; run it alone on the machine, it says if it was not):

* **grid**: the default digits sweep (5 test sizes × k 1..15 × 20 seeds, 1,500
  cells). The loop: for every test size and seed ``train_test_split``, then for
  every k ``KNeighborsClassifier(n_neighbors=k).fit(...).predict(...)``. digitlab:
  one ``digitlab.sweep`` call. Both make every prediction; the script checks that
  every cell of the sweep equals a KNN fitted on that split alone (digitlab's
  own search of the train part) and counts the cells whose accuracy equals
  scikit-learn's (they differ only where scikit-learn orders exact distance
  ties differently).
* **cv**: ``digitlab sweep --cv 10`` (10 folds × 20 shuffled repetitions × k
  1..15) next to ``cross_val_score(KNeighborsClassifier(k), X, y, cv=KFold(10,
  shuffle=True, random_state=seed))`` for every seed and k.
* **loo**: ``digitlab sweep --loo`` (k 1..15) next to ``cross_val_score`` with
  ``LeaveOneOut()`` for every k. scikit-learn fits 1,797 models per k, so by
  default only the first ``--loo-share`` of its leave-one-out splits are run
  and the time is extrapolated to all of them (the script says so).
* **mnist** (``--mnist``): the whole ``digitlab sweep`` command on the 10,000
  MNIST test digits with ``--repeats 5`` (a new process: start-up and reading the
  IDX file included) next to one exact all-pairs ranking of the same rows in
  this process (``kneighbors(X, X, 16, exclude_self=True)``, what a
  leave-one-out needs for k up to 15). Target: at most 1.5×.

Whether the machine was busy: the load average before and after, a fixed
workload timed before and after, and (on Linux) how much CPU time other
processes used while the script ran.

    python benchmarks/sweep_vs_sklearn.py                  # grid, cv, loo
    python benchmarks/sweep_vs_sklearn.py --mnist          # and the MNIST ratio
    python benchmarks/sweep_vs_sklearn.py --skip-sklearn-loo --skip-cv
    python benchmarks/sweep_vs_sklearn.py --only-mnist
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold, LeaveOneOut, train_test_split
from sklearn.neighbors import KNeighborsClassifier

import digitlab
from digitlab.data import load_idx
from digitlab.neighbors import kneighbors, vote
from digitlab.sweep import DEFAULT_KS, DEFAULT_TEST_SIZES

# ../shared/data/mnist from the main checkout (one level further from a worktree).
MNIST = next(
    (
        p / "shared" / "data" / "mnist"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "data" / "mnist").is_dir()
    ),
    Path("../shared/data/mnist"),
)
KS = list(DEFAULT_KS)


# ----------------------------------------------------------------- machine state


def reference_workload() -> float:
    """Seconds for a fixed mix of work (a matrix product, sorting, Python loops).

    The same work before and after the benchmark: if the two times differ much,
    something else ran on the machine meanwhile.
    """
    rng = np.random.default_rng(0)
    A = rng.random((600, 600))
    keys = rng.integers(0, 10**6, 2_000_000)
    start = time.perf_counter()
    for _ in range(5):
        A @ A
        np.sort(keys)
        sum(i * i for i in range(200_000))
    return time.perf_counter() - start


def cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine from /proc/stat, in ticks."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


class Machine:
    """Load average, a reference workload and other processes' CPU use."""

    def __init__(self) -> None:
        self.load_before = os.getloadavg()
        self.reference_before = min(reference_workload() for _ in range(3))
        self.jiffies = cpu_jiffies()
        self.own_cpu = self._own_cpu()
        self.wall = time.perf_counter()

    @staticmethod
    def _own_cpu() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def report(self) -> None:
        wall = time.perf_counter() - self.wall
        own = self._own_cpu() - self.own_cpu
        now = cpu_jiffies()
        reference_after = min(reference_workload() for _ in range(3))
        load_after = os.getloadavg()
        n_cpus = os.cpu_count() or 1
        print("\nmachine")
        print(
            f"  {n_cpus} CPUs; load average (1 min) {self.load_before[0]:.2f} before, "
            f"{load_after[0]:.2f} after (this script itself adds up to about "
            f"{min(n_cpus, 2)})"
        )
        change = reference_after / self.reference_before - 1
        print(
            f"  reference workload: {self.reference_before * 1e3:.0f} ms before, "
            f"{reference_after * 1e3:.0f} ms after ({100 * change:+.0f} %)"
        )
        busy_reasons = []
        if self.load_before[0] > 0.5 * n_cpus:
            busy_reasons.append("the load average was high before the start")
        if abs(change) > 0.15:
            busy_reasons.append("the reference workload changed by more than 15 %")
        if self.jiffies is not None and now is not None:
            tick = os.sysconf("SC_CLK_TCK")
            busy = (now[0] - self.jiffies[0]) / tick
            others = max(0.0, busy - own)
            share = others / (wall * n_cpus)
            print(
                f"  other processes used {others:.1f} CPU-seconds of the "
                f"{wall * n_cpus:.0f} available during the {wall:.0f} s run "
                f"({100 * share:.0f} % of the machine)"
            )
            if share > 0.05:
                busy_reasons.append("other processes used more than 5 % of the CPUs")
        if busy_reasons:
            print("  BUSY: " + "; ".join(busy_reasons) + ": ratios are not quotable")
        else:
            print("  quiet: nothing else ran; the ratios can be quoted")


# ------------------------------------------------------------------- the parts


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def time_sweep(data, n_runs: int, **kwargs):
    """Median seconds of ``n_runs`` sweeps (after one untimed warm-up)."""
    result = digitlab.sweep(data, **kwargs)
    times = [timed(lambda: digitlab.sweep(data, **kwargs))[0] for _ in range(n_runs)]
    return statistics.median(times), result


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


def predictions_of_a_search(data, train, test):
    """Every k's predictions of a KNN fitted on the split alone (digitlab's search)."""
    classes, labels = np.unique(data.y, return_inverse=True)
    dist, pos = kneighbors(data.X[train], data.X[test], max(KS))
    neighbor_labels = labels[train][pos]
    return {
        k: classes[vote(neighbor_labels[:, :k], dist[:, :k], len(classes))[1]]
        for k in KS
    }


def grid(data, repeats: int, sweep_repeats: int) -> None:
    seeds = list(range(repeats))
    sizes = list(DEFAULT_TEST_SIZES)
    n_cells = len(sizes) * len(KS) * len(seeds)
    print(
        f"\ngrid: digits {data.X.shape[0]} × {data.X.shape[1]}, {len(sizes)} test "
        f"sizes × k 1..15 × {len(seeds)} seeds = {n_cells} cells"
    )
    ours, result = time_sweep(data, sweep_repeats, repeats=repeats)
    print(
        f"  digitlab.sweep:     {ours * 1e3:9.1f} ms  (median of {sweep_repeats} runs; "
        f"ranking depth {result.ranking_depth}, {result.n_direct} rows searched "
        "directly)"
    )
    theirs, predictions = timed(lambda: sklearn_loop(data, sizes, KS, seeds))
    print(f"  scikit-learn loop:  {theirs * 1e3:9.1f} ms")
    got = {(r["test_size"], r["seed"], r["k"]): r["n_correct"] for r in result.rows}
    same_as_search = same_as_sklearn = equal_predictions = total = 0
    for t in sizes:
        for seed in seeds:
            train, test = data.split_indices(t, seed)
            search = predictions_of_a_search(data, train, test)
            y_test = data.y[test]
            for k in KS:
                theirs_k = predictions[t, seed, k]
                same_as_search += got[t, seed, k] == int(np.sum(search[k] == y_test))
                same_as_sklearn += got[t, seed, k] == int(np.sum(theirs_k == y_test))
                equal_predictions += int(np.sum(search[k] == theirs_k))
                total += len(test)
    print(
        f"  cells equal to a KNN fitted on each split: {same_as_search} of {n_cells}"
        f"{'' if same_as_search == n_cells else '  <-- NOT IDENTICAL'}"
    )
    print(
        f"  cells with scikit-learn's accuracy: {same_as_sklearn} of {n_cells}; "
        f"predictions equal: {equal_predictions} of {total} "
        f"({100 * equal_predictions / total:.4f} %, the rest are exact distance "
        "ties scikit-learn orders differently)"
    )
    print(f"  ratio: {theirs / ours:.0f}× (scikit-learn loop / digitlab.sweep)")


def cv(data, repeats: int, sweep_repeats: int, skip_sklearn: bool) -> None:
    from sklearn.model_selection import cross_val_score

    print(f"\ncv: 10 folds × {repeats} shuffled repetitions × k 1..15 (digits)")
    ours, result = time_sweep(data, sweep_repeats, cv=10, repeats=repeats)
    print(
        f"  digitlab sweep --cv 10:   {ours * 1e3:9.1f} ms  "
        f"(median of {sweep_repeats} runs)"
    )
    if skip_sklearn:
        return

    def theirs_all():
        return {
            (seed, k): cross_val_score(
                KNeighborsClassifier(n_neighbors=k),
                data.X,
                data.y,
                cv=KFold(10, shuffle=True, random_state=seed),
            )
            for seed in range(repeats)
            for k in KS
        }

    theirs, scores = timed(theirs_all)
    print(f"  cross_val_score over k:   {theirs * 1e3:9.1f} ms")
    folds = {(r["seed"], r["k"], r["fold"]): r["accuracy"] for r in result.rows}
    same = sum(
        folds[seed, k, f] == score
        for (seed, k), per_fold in scores.items()
        for f, score in enumerate(per_fold)
    )
    print(
        f"  folds with scikit-learn's accuracy: {same} of {len(folds)}; "
        f"ratio: {theirs / ours:.0f}×"
    )


def loo(data, sweep_repeats: int, share: float, skip_sklearn: bool) -> None:
    from sklearn.model_selection import cross_val_score

    n = len(data)
    print(f"\nloo: leave-one-out × k 1..15 (digits, {n} held-out digits per k)")
    ours, result = time_sweep(data, sweep_repeats, loo=True)
    print(
        f"  digitlab sweep --loo:     {ours * 1e3:9.1f} ms  "
        f"(median of {sweep_repeats} runs)"
    )
    if skip_sklearn:
        return
    splits = list(LeaveOneOut().split(data.X))
    n_run = n if share >= 1 else max(1, round(share * n))

    def theirs_part():
        return {
            k: cross_val_score(
                KNeighborsClassifier(n_neighbors=k), data.X, data.y, cv=splits[:n_run]
            )
            for k in KS
        }

    seconds, scores = timed(theirs_part)
    theirs = seconds * n / n_run
    note = (
        "all splits"
        if n_run == n
        else f"{n_run} of {n} splits run ({100 * n_run / n:.1f} %), time "
        "extrapolated to all"
    )
    print(f"  cross_val_score(LeaveOneOut) over k: {theirs:9.2f} s  ({note})")
    # Held-out digits scikit-learn got right, against ours, on the splits it ran.
    classes, labels = np.unique(data.y, return_inverse=True)
    dist, ind = kneighbors(data.X, data.X, max(KS), exclude_self=True)
    same = 0
    for k in KS:
        ours_right = vote(labels[ind[:n_run, :k]], dist[:n_run, :k], len(classes))[1]
        same += int(np.sum((ours_right == labels[:n_run]) == (scores[k] == 1.0)))
    if n_run == n:
        same_counts = sum(
            r["n_correct"] == int(np.sum(scores[r["k"]] == 1.0)) for r in result.rows
        )
        print(f"  k values with scikit-learn's accuracy: {same_counts} of {len(KS)}")
    print(
        f"  held-out digits judged alike (right/wrong): {same} of {n_run * len(KS)}; "
        f"ratio: {theirs / ours:.0f}×"
    )


def mnist(folder: Path, repeats: int) -> None:
    images = folder / "t10k-images-idx3-ubyte.gz"
    if not images.exists():
        print(f"\nmnist: skipped, {images} not found (--mnist-dir)")
        return
    data = load_idx(images)
    print(
        f"\nmnist: {data.X.shape[0]} × {data.X.shape[1]}, the default grid with "
        f"--repeats {repeats}"
    )
    kneighbors(data.X[:500], data.X[:500], 16, exclude_self=True)  # warm up
    cpu = time.process_time()
    ranking, _ = timed(lambda: kneighbors(data.X, data.X, 16, exclude_self=True))
    ranking_cpu = time.process_time() - cpu
    print(
        f"  one exact all-pairs ranking (k=16, in process): {ranking:7.2f} s  "
        f"({ranking_cpu:.2f} CPU-seconds)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            "-m",
            "digitlab",
            "sweep",
            "--data",
            str(images),
            "--repeats",
            str(repeats),
            "--runs-db",
            str(Path(tmp) / "runs.sqlite"),
        ]
        env = dict(os.environ)
        env.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[1] / "src"))
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds, done = timed(
            lambda: subprocess.run(command, capture_output=True, text=True, env=env)
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        command_cpu = (after.ru_utime - children.ru_utime) + (
            after.ru_stime - children.ru_stime
        )
    if done.returncode != 0:
        print(f"  digitlab sweep failed: {done.stderr.strip()}")
        return
    print(
        f"  digitlab sweep command (new process, IDX read): {seconds:7.2f} s  "
        f"({command_cpu:.2f} CPU-seconds)"
    )
    print(
        f"  ratio: {seconds / ranking:.2f}× one ranking (target at most 1.5×); "
        f"in CPU time {command_cpu / ranking_cpu:.2f}×"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="seeds (20)")
    parser.add_argument(
        "--sweep-repeats", type=int, default=5, help="timed runs of each sweep (5)"
    )
    parser.add_argument("--skip-grid", action="store_true")
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--skip-loo", action="store_true")
    parser.add_argument(
        "--skip-sklearn-cv", action="store_true", help="time digitlab's cv only"
    )
    parser.add_argument(
        "--skip-sklearn-loo", action="store_true", help="time digitlab's loo only"
    )
    parser.add_argument(
        "--loo-share",
        type=float,
        default=0.1,
        help="share of scikit-learn's leave-one-out splits to run (0.1; 1 = all)",
    )
    parser.add_argument("--mnist", action="store_true", help="add the MNIST ratio")
    parser.add_argument("--only-mnist", action="store_true")
    parser.add_argument("--mnist-repeats", type=int, default=5)
    parser.add_argument("--mnist-dir", type=Path, default=MNIST)
    args = parser.parse_args()
    machine = Machine()
    data = digitlab.load_digits()
    if not args.only_mnist:
        if not args.skip_grid:
            grid(data, args.repeats, args.sweep_repeats)
        if not args.skip_cv:
            cv(data, args.repeats, args.sweep_repeats, args.skip_sklearn_cv)
        if not args.skip_loo:
            loo(data, args.sweep_repeats, args.loo_share, args.skip_sklearn_loo)
    if args.mnist or args.only_mnist:
        mnist(args.mnist_dir, args.mnist_repeats)
    machine.report()


if __name__ == "__main__":
    main()
