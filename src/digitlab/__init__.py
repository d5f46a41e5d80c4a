"""digitlab: train, sweep, inspect and use handwritten-digit recognizers.

The lesson in five lines::

    import digitlab
    data = digitlab.load_digits()
    split = data.split(test_size=0.2, seed=0)
    model = digitlab.KNN(k=5).fit(split.X_train, split.y_train)
    print(model.score(split.X_test, split.y_test))   # 0.975
"""

import importlib
import sys
import types
from typing import TYPE_CHECKING

from digitlab._version import __version__

# What ``import digitlab`` offers, and where it lives. Each name is imported
# on first use (PEP 562), so ``digitlab --help`` and small scripts do not pay
# for scikit-learn and scipy (~2 s) before they need them.
_EXPORTS = {
    "augment_digits": "digitlab.augment",
    "compare": "digitlab.compare",
    "CompareResult": "digitlab.compare",
    "Dataset": "digitlab.data",
    "default_model": "digitlab.predict",
    "DigitlabError": "digitlab.errors",
    "DigitlabNotice": "digitlab.errors",
    "DrawingPad": "digitlab.notebook",
    "kneighbors": "digitlab.neighbors",
    "KNN": "digitlab.model",
    "load_csv": "digitlab.data",
    "load_data": "digitlab.data",
    "load_digits": "digitlab.data",
    "load_folder": "digitlab.data",
    "load_idx": "digitlab.data",
    "load_model": "digitlab.modelfile",
    "load_npz": "digitlab.data",
    "make_estimator": "digitlab.recipes",
    "mistakes": "digitlab.mistakes",
    "mistakes_on_split": "digitlab.mistakes",
    "MistakesResult": "digitlab.mistakes",
    "PicturePredictions": "digitlab.predict",
    "PIPELINES": "digitlab.preprocess",
    "predict_files": "digitlab.predict",
    "prepare": "digitlab.preprocess",
    "RecipeModel": "digitlab.recipes",
    "RECIPES": "digitlab.recipes",
    "Run": "digitlab.runs",
    "RunStore": "digitlab.runs",
    "save_model": "digitlab.modelfile",
    "Split": "digitlab.data",
    "sweep": "digitlab.sweep",
    "SweepResult": "digitlab.sweep",
    "train": "digitlab.train",
    "TrainResult": "digitlab.train",
}


# Modules reachable as attributes without an import of their own:
# ``digitlab.runs.best()`` after a plain ``import digitlab``.
_SUBMODULES = {"runs": "digitlab.runs"}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(_SUBMODULES[name])
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'digitlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))


class _Package(types.ModuleType):
    """``digitlab.train`` stays the function ``train`` when its module loads.

    Loading the module ``digitlab.train`` sets the package's attribute ``train``
    to that module; the function of the same name is kept there instead (as
    the eager imports did), for ``compare``, ``mistakes``, ``sweep``, ``train``.
    """

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


if TYPE_CHECKING:  # the names, for type checkers and editors
    from digitlab.augment import augment_digits
    from digitlab.compare import CompareResult, compare
    from digitlab.data import (
        Dataset,
        Split,
        load_csv,
        load_data,
        load_digits,
        load_folder,
        load_idx,
        load_npz,
    )
    from digitlab.errors import DigitlabError, DigitlabNotice
    from digitlab.mistakes import MistakesResult, mistakes, mistakes_on_split
    from digitlab.model import KNN
    from digitlab.modelfile import load_model, save_model
    from digitlab.neighbors import kneighbors
    from digitlab.notebook import DrawingPad
    from digitlab.predict import PicturePredictions, default_model, predict_files
    from digitlab.preprocess import PIPELINES, prepare
    from digitlab.recipes import RECIPES, RecipeModel, make_estimator
    from digitlab.runs import Run, RunStore
    from digitlab.sweep import SweepResult, sweep
    from digitlab.train import TrainResult, train

__all__ = [
    "__version__",
    "CompareResult",
    "Dataset",
    "DigitlabError",
    "DigitlabNotice",
    "DrawingPad",
    "KNN",
    "MistakesResult",
    "PIPELINES",
    "PicturePredictions",
    "RECIPES",
    "RecipeModel",
    "Run",
    "RunStore",
    "Split",
    "SweepResult",
    "TrainResult",
    "augment_digits",
    "compare",
    "default_model",
    "kneighbors",
    "load_csv",
    "load_data",
    "load_digits",
    "load_folder",
    "load_idx",
    "load_npz",
    "load_model",
    "make_estimator",
    "mistakes",
    "mistakes_on_split",
    "predict_files",
    "prepare",
    "save_model",
    "sweep",
    "train",
]
