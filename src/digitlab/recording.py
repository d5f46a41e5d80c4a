"""What the run history keeps of a result: turning any result into a stored run.

:func:`run_fields` knows, for each result digitlab computes (a
:class:`~digitlab.train.TrainResult`, :class:`~digitlab.sweep.SweepResult`,
:class:`~digitlab.mistakes.MistakesResult`, :class:`~digitlab.compare.CompareResult`
or :class:`~digitlab.predict.PicturePredictions`), the configuration, data
fingerprint, seeds, score, the ``digitlab`` command line that reruns it (every
option explicit) and the one that reproduces its score. :func:`digitlab.runs.record`
stores them; the CLI records every run this way, so a run recorded from Python is
the same as the one ``digitlab train`` records for the same settings.

This module imports no other part of the run history (``runs`` imports it), and
the result classes only by name, so loading it loads no scikit-learn.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from pathlib import Path

__all__ = ["run_fields", "compute_options", "data_argv", "train_summary"]

# The --backend / --dask a CLI command was given: where neighbors were ranked
# changes no result, but a rerun should rank them the same way. Set by the CLI
# around each command (see compute_options); empty for runs made from Python.
_compute_args: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "digitlab_compute_args", default=()
)


@contextlib.contextmanager
def compute_options(backend: str | None = None, dask: str | None = None):
    """Inside this block, recorded command lines name ``--backend`` / ``--dask``."""
    args = []
    if backend is not None:
        args += ["--backend", str(backend)]
    if dask is not None:
        args += ["--dask", str(dask)]
    token = _compute_args.set(tuple(args))
    try:
        yield
    finally:
        _compute_args.reset(token)


def _text(value) -> str:
    """An option value as the command line writes it (floats exactly)."""
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _absolute(path) -> str:
    return str(Path(path).resolve())


def data_argv(data) -> list[str]:
    """``--data`` and the options that read it, as a rerun needs them.

    ``data`` is a :class:`~digitlab.data.Dataset` (or its ``source`` string).
    A file or folder is named by its absolute path, so a rerun from another
    folder reads the same data; ``--labels``, ``--pipeline`` and ``--skip-bad``
    come from how :func:`digitlab.data.load_data` read it.
    """
    source = data if isinstance(data, str) else data.source
    options = {} if isinstance(data, str) else data.meta.get("load_options", {})
    argv = ["--data", _absolute(source) if _is_path(source) else str(source)]
    labels = options.get("labels")
    if labels is not None:
        is_file = isinstance(labels, (str, Path)) and Path(labels).is_file()
        argv += ["--labels", _absolute(labels) if is_file else _text(labels)]
    if options.get("pipeline") is not None:
        argv += ["--pipeline", str(options["pipeline"])]
    if options.get("skip_bad"):
        argv.append("--skip-bad")
    return argv + list(_compute_args.get())


def _is_path(source) -> bool:
    return str(source) != "digits" and Path(source).exists()


def _stratify(flag) -> str:
    return "--stratify" if flag else "--no-stratify"


def train_summary(config: dict) -> str:
    """``ts=0.2 k=5 seed 0`` (+ what differs from the defaults) for ``runs``."""
    model = f"recipe {config['recipe']}" if "recipe" in config else f"k={config['k']}"
    parts = [f"ts={config['test_size']}", model, f"seed {config['seed']}"]
    if config.get("weights", "uniform") != "uniform":
        parts.append(config["weights"])
    if config.get("metric", "euclidean") != "euclidean":
        parts.append(config["metric"])
    if config.get("stratify"):
        parts.append("stratified")
    return " ".join(parts)


def _split_argv(config: dict) -> list[str]:
    return [
        "--test-size",
        _text(config["test_size"]),
        "--seed",
        _text(config["seed"]),
        _stratify(config["stratify"]),
    ]


def _knn_argv(config: dict) -> list[str]:
    return [
        "--k",
        _text(config["k"]),
        "--weights",
        config["weights"],
        "--metric",
        config["metric"],
    ]


def _train(result, data) -> dict:
    results = result.to_dict()
    config = results.pop("config")
    results.pop("version")
    results["predictions"] = result.y_pred.tolist()
    model = ["--recipe", config["recipe"]] if "recipe" in config else _knn_argv(config)
    return dict(
        command="train",
        argv=["train", *data_argv(data), *_split_argv(config), *model],
        config=config,
        results=results,
        score=result.accuracy,
        summary=train_summary(config),
        seeds=[config["seed"]],
    )


def _ks_text(ks) -> str:
    """``1..15`` for a run of consecutive k (three or more), else ``1,3,5``."""
    ks = list(ks)
    if len(ks) >= 3 and ks == list(range(ks[0], ks[-1] + 1)):
        return f"{ks[0]}..{ks[-1]}"
    return _text(ks)


def _sweep_argv(data, cfg: dict, scheme: str, ks: str, test_sizes) -> list[str]:
    """``sweep --data ... --k ...`` in the CLI's option order."""
    argv = ["sweep", *data_argv(data)]
    if scheme == "split":
        argv += ["--test-sizes", _text(test_sizes)]
    argv += ["--k", ks]
    if scheme != "loo":
        seeds = cfg["seeds"]
        argv += ["--repeats", str(len(seeds)), "--seed", str(seeds[0])]
    if scheme == "cv":
        argv += ["--cv", str(cfg["cv"])]
    if scheme == "loo":
        argv.append("--loo")
    return argv + ["--weights", cfg["weights"], "--metric", cfg["metric"]]


def _sweep(result, data) -> dict:
    cfg, best, scheme = result.config, result.best(), result.scheme
    argv = _sweep_argv(data, cfg, scheme, _ks_text(cfg["ks"]), cfg["test_sizes"])
    # The best cell alone, on the same seeds: what `runs best` offers to rerun
    # (test size before k there, and --stratify only when on).
    reproduce = ["sweep", *data_argv(data), "--k", str(best.k)]
    if scheme == "loo":
        reproduce.append("--loo")
    else:
        seeds = cfg["seeds"]
        reproduce += ["--repeats", str(len(seeds)), "--seed", str(seeds[0])]
        if scheme == "cv":
            reproduce += ["--cv", str(cfg["cv"])]
        else:
            reproduce += ["--test-sizes", _text(best.test_size)]
        if cfg["stratify"]:
            reproduce.append("--stratify")
    reproduce += ["--weights", cfg["weights"], "--metric", cfg["metric"]]
    return dict(
        command="sweep",
        argv=[*argv, _stratify(cfg["stratify"])],
        reproduce=reproduce,
        config=cfg,
        results=result.to_dict(),
        score=best.mean,
        score_std=best.summary.std,
        summary=result.run_summary(),
        seeds=cfg["seeds"],
        result_type="digitlab.sweep:SweepResult",
    )


def _mistakes(result, data) -> dict:
    results = result.to_dict()
    config = results.pop("config")
    results.pop("version")
    repeats = len(result.seeds)
    argv = ["mistakes", *data_argv(data or config["data"]), *_split_argv(config)]
    return dict(
        command="mistakes",
        argv=[*argv, *_knn_argv(config), "--repeats", str(repeats)],
        config=config,
        results=results,
        score=result.accuracy,
        score_std=results.get("accuracy_summary", {}).get("std"),
        summary=train_summary(config) + (f" ×{repeats}" if repeats > 1 else ""),
        seeds=result.seeds,
        result_type="digitlab.mistakes:MistakesResult",
    )


def _compare(result, data) -> dict:
    seed = result.seeds[0] if result.seeds else 0
    config = {
        "data": result.data_source,
        "recipes": list(result.recipes),
        "repeats": result.repeats,
        "test_size": result.test_size,
        "seed": seed,
        "stratify": result.stratify,
        "baseline": result.baseline,
    }
    argv = ["compare", *data_argv(data or result.data_source), *_split_argv(config)]
    argv += ["--recipes", ",".join(result.recipes), "--repeats", str(result.repeats)]
    best = result.summary(result.best())
    return dict(
        command="compare",
        argv=[*argv, "--baseline", result.baseline],
        config=config,
        results=result.to_dict(),
        score=best.mean,
        score_std=best.std,
        summary=f"best {result.best()} of {len(result.recipes)} recipes "
        f"({result.repeats}×)",
        seeds=result.seeds,
        result_type="digitlab.compare:CompareResult",
    )


def _predict(result, data) -> dict:
    """The data is the model's training digits (name and fingerprint); the
    pictures are kept by absolute path and a SHA-256 of their bytes, and the
    results are every prediction with its votes, so ``runs rerun`` checks them."""
    from digitlab.data import Dataset

    model, model_path, k = result.model, result.model_path, result.k
    training = Dataset(X=model._fit_X, y=model.classes_[model._y])
    meta = getattr(model, "metadata_", {}) or {}
    pictures = hashlib.sha256()
    for r in result.results:
        pictures.update(Path(r.file).read_bytes())
    used_k = getattr(model, "k", None) if k is None else k
    recipe = getattr(model, "recipe", None)
    config = {
        "model": _absolute(model_path) if model_path else "default",
        "k": used_k,
        "weights": getattr(model, "weights", None),
        "metric": getattr(model, "metric", None),
        "pipeline": model.pipeline,
        "pictures": [_absolute(r.file) for r in result.results],
        "pictures_sha256": pictures.hexdigest()[:16],
    }
    if recipe is not None:
        config["recipe"] = recipe
    argv = ["predict"]
    if model_path:
        argv += ["--model", _absolute(model_path)]
    if k is not None:
        argv += ["--k", str(k)]
    if recipe is not None and not model_path:
        argv += ["--recipe", recipe]
    n = len(result.results)
    return dict(
        command="predict",
        argv=[*argv, *(_absolute(p) for p in result.paths)],
        config=config,
        results={
            "predictions": [
                {**p, "file": _absolute(p["file"])} for p in result.to_list()
            ],
            "unreadable": [_absolute(f) for f, _ in result.failures],
        },
        data=training,
        data_name=str(meta.get("data", model_path or "digits")),
        summary=f"{n} picture{'s' if n != 1 else ''}, "
        + (f"recipe {recipe}" if recipe else f"k={used_k}")
        + (f", {len(result.failures)} unreadable" if result.failures else ""),
    )


# Result class name -> how it becomes a run. By name, so that recording a run
# imports no result module (and none of them imports this one).
_RECORDERS = {
    "digitlab.train.TrainResult": _train,
    "digitlab.sweep.SweepResult": _sweep,
    "digitlab.mistakes.MistakesResult": _mistakes,
    "digitlab.compare.CompareResult": _compare,
    "digitlab.predict.PicturePredictions": _predict,
}


def _data_of(result, data):
    """The data set the result was computed on, for its fingerprint."""
    if data is not None:
        return data
    if getattr(result, "data", None) is not None and hasattr(result.data, "X"):
        return result.data
    from digitlab.data import load_data

    config = getattr(result, "config", None)
    source = (
        config()["data"]
        if callable(config)
        else (config or {}).get("data", getattr(result, "data_source", "digits"))
    )
    return load_data(source)


def run_fields(result, *, data=None) -> dict:
    """The keyword arguments of :func:`digitlab.runs.new_run` for ``result``.

    Parameters
    ----------
    result : TrainResult, SweepResult, MistakesResult, CompareResult or
        PicturePredictions
        What a digitlab command (or the same function called from Python) returned.
    data : Dataset, optional
        The data the result was computed on, for its name and fingerprint; by
        default the result's own (a train result keeps it) or the data set its
        configuration names, loaded again.

    Returns
    -------
    dict
        ``command``, ``argv`` (after ``digitlab``, every option explicit),
        ``reproduce`` (the line that reproduces the score, when it differs),
        ``config``, ``results``, ``data``, ``seeds``, ``score``, ``score_std``,
        ``summary`` and ``result_type``.
    """
    cls = type(result)
    recorder = _RECORDERS.get(f"{cls.__module__}.{cls.__qualname__}")
    if recorder is None:
        from digitlab.errors import DigitlabError

        raise DigitlabError(
            f"A {cls.__name__} cannot be recorded; record the result of train, "
            "sweep, mistakes, compare or predict_files."
        )
    if cls.__name__ == "PicturePredictions":
        return recorder(result, None)
    data = _data_of(result, data)
    fields = recorder(result, data)
    fields.setdefault("data", data)
    return fields
