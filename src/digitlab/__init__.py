"""digitlab: train, sweep, inspect and use handwritten-digit recognizers.

The lesson in five lines::

    import digitlab
    data = digitlab.load_digits()
    split = data.split(test_size=0.2, seed=0)
    model = digitlab.KNN(k=5).fit(split.X_train, split.y_train)
    print(model.score(split.X_test, split.y_test))   # 0.975
"""

__version__ = "0.1.0"

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
from digitlab.model import KNN, load_model, save_model
from digitlab.neighbors import kneighbors
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
