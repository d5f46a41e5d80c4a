"""Every shipped notebook, run top to bottom in a fresh, real Jupyter kernel.

Each notebook in ``notebooks/`` (found by glob, so a new one is tested as soon as
it is shipped) is executed with nbclient in a kernel started for the test. The
kernel imports the digitlab of this tree (its ``src`` is put first on the
kernel's ``PYTHONPATH``), runs in a temporary folder, and keeps its run history
in a temporary ``DIGITLAB_HOME``, so a notebook never writes to the real one.

Every notebook must have no error output, nothing on stderr (except a cell
tagged ``shows-notice``, whose stderr must be exactly digitlab's one-line notice
pointing at the cell), and an ``image/png`` output in every cell that draws a
plot. ``CHECKS`` adds the checks of one notebook, keyed by its file name: real
values in its outputs, computed again here by scikit-learn or digitlab.

The kernel is a private kernel spec written for the test (the interpreter
running pytest, ``-m ipykernel_launcher``), so no ``ipykernel install`` is
needed and the kernel cannot be some other Python found on the machine.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import digitlab

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra")
pytest.importorskip("ipykernel", reason="ipykernel is in the dev extra")

pytestmark = pytest.mark.slow

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
KERNEL = "digitlab-tests"
# A cell draws a plot if it calls a result's .plot(), a digitlab.plots function
# or pyplot's show() or savefig().
PLOT_CALL = re.compile(r"\.plot\(|\bplot_\w+\(|\bplt\.(show|savefig)\(")


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory):
    """A kernel spec running this very interpreter, found through JUPYTER_PATH."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps(
            {"argv": argv, "display_name": "digitlab tests", "language": "python"}
        )
    )
    return root


def execute(path: Path, workdir: Path, kernel_dir: Path):
    """Run the notebook at ``path`` in a fresh kernel; return it with outputs."""
    nb = nbformat.read(path, as_version=4)
    src = str(Path(digitlab.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    env["DIGITLAB_HOME"] = str(workdir / "home")
    env["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(kernel_dir), env.get("JUPYTER_PATH")) if p
    )
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend draws the plots
    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = env["JUPYTER_PATH"]  # where the spec is looked up
    try:
        client = nbclient.NotebookClient(
            nb,
            kernel_name=KERNEL,
            timeout=120,
            resources={"metadata": {"path": str(workdir)}},
        )
        client.execute(env=env)
    finally:
        if previous is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = previous
    return nb


def text_of(cell) -> str:
    """Everything a code cell printed or showed as text (stdout and text/plain)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == "stdout":
            parts.append(out.text)
        elif "data" in out and "text/plain" in out.data:
            parts.append(out.data["text/plain"])
    return "".join(parts)


def html_of(cell) -> str:
    return "".join(
        out.data.get("text/html", "")
        for out in cell.get("outputs", [])
        if "data" in out
    )


def stderr_of(cell) -> str:
    return "".join(
        out.text
        for out in cell.get("outputs", [])
        if out.output_type == "stream" and out.name == "stderr"
    )


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def the_cell(nb, fragment: str):
    """The one code cell whose source contains ``fragment``."""
    (cell,) = [c for c in code_cells(nb) if fragment in c.source]
    return cell


def all_text(nb) -> str:
    return "".join(text_of(c) for c in code_cells(nb))


# -- the checks of each notebook ---------------------------------------------------


def check_lesson(nb, workdir):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier

    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.2, random_state=0
    )
    lesson = KNeighborsClassifier().fit(X_train, y_train).score(X_test, y_test)
    assert lesson == 0.975
    text = all_text(nb)
    assert f"scikit-learn's accuracy: {lesson}\n" in text
    assert "351 of 360 test digits right" in text
    assert f"digitlab's accuracy: {lesson}\n" in text
    assert "Accuracy: 0.975 (351 of 360 test digits right)" in text
    # Try it: test_size 0.3 and one neighbor, by scikit-learn and by digitlab.
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.3, random_state=0
    )
    one = KNeighborsClassifier(n_neighbors=1).fit(X_train, y_train)
    tried = one.score(X_test, y_test)
    assert f"test_size=0.3, n_neighbors=1: {tried}\n" in text
    assert f"the same with digitlab:       {tried}\n" in text
    # Fix the bug: scikit-learn's error as one printed line, digitlab's notice.
    crash = text_of(the_cell(nb, "KNeighborsClassifier().fit(digits.images"))
    assert crash.startswith("scikit-learn says: Found array with dim 3")
    assert f"digitlab on the pictures: {lesson}\n" in text
    # The mission: the sweep's view (table and inline heat map), its plot and
    # its best cell, as digitlab computes them here.
    sweep = digitlab.sweep()
    best = sweep.best()
    view = html_of(the_cell(nb, "sweep = digitlab.sweep()"))
    assert '<img src="data:image/png;base64,' in view and "<style" not in view
    assert f"{best.mean:.4f}" in view
    assert (
        f"Best on average: test_size={best.test_size}, n_neighbors={best.k}: "
        f"{best.mean:.4f} over 20 shuffles"
    ) in text
    # The run history lives in the temporary DIGITLAB_HOME: 3 runs recorded.
    from digitlab.runs import RunStore

    with RunStore(workdir / "home" / "runs.sqlite") as store:
        recorded = store.runs()
    assert sorted(r.command for r in recorded) == ["sweep", "train", "train"]
    (swept,) = [r for r in recorded if r.command == "sweep"]
    assert swept.score == pytest.approx(best.mean, abs=1e-12)
    listed = text_of(the_cell(nb, "runs.list()"))
    assert "sweep" in listed and f"best ts={best.test_size} k={best.k}" in listed
    shown_best = text_of(the_cell(nb, "runs.best()"))
    assert shown_best.startswith("Best sweep on digits:")


def check_mistakes(nb, workdir):
    lesson = digitlab.mistakes_on_split()
    text = all_text(nb)
    assert f"{lesson.n_wrong} of {lesson.n_test} test digits are wrong\n" in text
    assert (lesson.n_wrong, lesson.n_test) == (9, 360)
    gallery = html_of(_bare(nb, "result"))
    assert gallery.count('alt="true ') == lesson.n_wrong
    assert "<style" not in gallery and " class=" not in gallery
    first = lesson.examples_of(8, 3)[0]
    assert f"Votes: {first.shares}" in text
    hard = digitlab.mistakes_on_split(repeats=20)
    assert hard.summary_line() + "\n" in text
    assert hard.pair_line() + "\n" in text


def _bare(nb, name: str):
    """The code cell that is just ``name`` (shown by the notebook)."""
    (cell,) = [c for c in code_cells(nb) if c.source.strip() == name]
    return cell


def check_better(nb, workdir):
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier

    digits = digitlab.load_digits()
    # The baseline recipe (one neighbor) on the 5 shuffles, by scikit-learn.
    scores = []
    for seed in range(5):
        X_train, X_test, y_train, y_test = train_test_split(
            digits.X, digits.y, test_size=0.2, random_state=seed
        )
        knn = KNeighborsClassifier(n_neighbors=1).fit(X_train, y_train)
        scores.append(knn.score(X_test, y_test))
    text = all_text(nb)
    assert f"knn (one neighbor): {np.mean(scores):.4f} on average over 5" in text
    view = html_of(the_cell(nb, "digitlab.compare("))
    assert '<img src="data:image/png;base64,' in view and "<style" not in view
    best = re.search(r"Best: ([\w-]+), ", text).group(1)
    assert f"<b>{best}</b>" in view  # the view and the printed verdict agree
    # The plot saved with plt.savefig is the picture, not a white page.
    from PIL import Image

    with Image.open(workdir / "race.png") as saved:
        pixels = np.asarray(saved.convert("L"), dtype=float)
    assert pixels.std() > 20 and (pixels < 128).mean() > 0.01
    trained = text_of(the_cell(nb, "digitlab.train(recipe=best)"))
    assert f"Model: recipe {best}:" in trained


def _pad_state(nb) -> dict:
    """The drawing pad's last state, as nbclient stored it in the notebook."""
    widgets = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
    (state,) = [
        m["state"] for m in widgets["state"].values() if "prediction" in m["state"]
    ]
    return state


def check_draw(nb, workdir):
    import base64
    import io

    from PIL import Image

    from digitlab.examples import teach
    from digitlab.explain import explain

    model = digitlab.default_model()  # what DrawingPad() reads with
    shown = the_cell(nb, "pad = digitlab.DrawingPad()")
    (view,) = [o for o in shown.outputs if "data" in o]
    assert "application/vnd.jupyter.widget-view+json" in view.data  # the widget
    rows = f"{len(model._fit_X):,} training rows, nothing drawn"
    assert rows in view.data["text/plain"]
    # Headless, nothing was drawn: the notebook drew a 7 in code and set it.
    state = _pad_state(nb)
    data = base64.b64decode(state["image"].split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as opened:
        picture = opened.copy()
    assert picture.size == (280, 280)
    before = explain(model, picture)
    votes = {d: f"{v:.0%}" for d, v in before["votes"].items() if v}
    read = text_of(the_cell(nb, "pad.picture = page"))
    assert f"The model says {before['digit']}\nVotes: {votes}\n" in read
    assert before["digit"] == "7"
    shown_input = the_cell(nb, "pad.picture = page").outputs[-1].data["text/plain"]
    assert shown_input == repr(np.array(before["input"], dtype=int))
    listed = text_of(the_cell(nb, 'for n in pad.prediction["neighbors"]'))
    assert listed.splitlines() == [
        f"{n['rank']}. label {n['label']}, distance {n['distance']:.1f} "
        f"(training row {n['index']:,})"
        for n in before["neighbors"]
    ]
    # Teaching it: the same as digitlab.examples.teach on a new default model.
    n_before = len(model._fit_X)
    answer = teach(model, picture, "7")
    after = explain(model, picture)
    taught = text_of(the_cell(nb, "pad.teach(true_label)"))
    assert taught.splitlines() == [
        f"The model had {n_before:,} training rows and now has {answer['n_train']:,}.",
        f"Nearest to the drawing now: training row {n_before:,}, label 7, "
        "distance 0.0, yours: True.",
    ]
    assert state["prediction"] == after and state["input"] == after["input"]
    assert state["n_taught"] == 1 and state["model_info"]["n_examples"] == 1
    assert state["status"] == "Learned your 7: the model now holds 1 of your drawings."
    assert state["message"] == ""


CHECKS = {
    "01_lesson.ipynb": check_lesson,
    "02_mistakes.ipynb": check_mistakes,
    "03_better.ipynb": check_better,
    "04_draw.ipynb": check_draw,
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel(path, tmp_path, kernel_dir):
    source = nbformat.read(path, as_version=4)
    for cell in code_cells(source):  # shipped with outputs cleared
        assert cell.outputs == [] and cell.execution_count is None, path.name
    assert source.cells[0].cell_type == "markdown"  # the page for the class
    nb = execute(path, tmp_path, kernel_dir)
    for n, cell in enumerate(code_cells(nb)):
        where = f"{path.name}, code cell {n + 1}:\n{cell.source}"
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{where}\n{errors[0].get('evalue')}"
        stderr = stderr_of(cell)
        if "shows-notice" in cell.metadata.get("tags", []):
            # One notice, one sentence, pointing at the cell, not at a library.
            assert stderr.count("DigitlabNotice: ") == 1, where + "\n" + stderr
            assert "site-packages" not in stderr and "digitlab/" not in stderr
            assert re.match(r"\S+:\d+: DigitlabNotice: ", stderr), stderr
            message = stderr.split("DigitlabNotice: ")[1].splitlines()[0]
            assert message.endswith(".") and message.count(". ") == 0, message
        else:
            assert stderr == "", f"{where}\n{stderr}"
        if PLOT_CALL.search(cell.source):
            kinds = {k for o in cell.outputs if "data" in o for k in o.data}
            assert "image/png" in kinds, f"{where}\nno picture: {kinds}"
    check = CHECKS.get(path.name)
    if check is not None:
        check(nb, tmp_path)


def test_every_lesson_notebook_is_tested():
    names = {p.name for p in NOTEBOOKS}
    assert {
        "01_lesson.ipynb",
        "02_mistakes.ipynb",
        "03_better.ipynb",
        "04_draw.ipynb",
    } <= names
    assert set(CHECKS) <= names
