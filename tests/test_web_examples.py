"""The web app learns the user's examples: the folder at start, each one saved live.

Real HTTP requests to the app (TestClient inside ``with``), real worker
processes for ``workers=2``, and a real ``digitlab serve --workers 2`` process.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

import digitlab
from serving import interrupt, start_serve

pytest.importorskip("fastapi", reason="the web extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from digitlab.web import create_app  # noqa: E402
from digitlab.web.schemas import ModelInfo, Prediction  # noqa: E402

DRAWN = Path(__file__).parent / "fixtures" / "drawn"
# An 8 drawn as two stacked circles: the model on the 1,797 digits reads 9.
EIGHT = DRAWN / "8_s0_paper.png"


def data_url(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


@pytest.fixture(scope="module")
def lesson_model():
    data = digitlab.load_digits()
    return digitlab.KNN(5, pipeline="uci8x8").fit(data.X, data.y)


def predict(client, path: Path = EIGHT) -> dict:
    response = client.post(
        "/api/predict", files={"file": (path.name, path.read_bytes())}
    )
    assert response.status_code == 200, response.text
    return Prediction.model_validate(response.json()).model_dump()


def model_facts(client) -> dict:
    return ModelInfo.model_validate(client.get("/api/model").json()).model_dump()


def test_the_examples_already_in_the_folder_are_learned_at_start(
    lesson_model, tmp_path
):
    folder = tmp_path / "ex"
    (folder / "8").mkdir(parents=True)
    for name in ("8_s0_scan.jpg", "8_s0_blue.jpg"):
        shutil.copy(DRAWN / name, folder / "8" / name)
    with TestClient(create_app(lesson_model, examples_dir=folder)) as client:
        facts = model_facts(client)
        answer = predict(client)
    assert facts["n_examples"] == 2 and facts["n_train"] == 1797 + 2 * 5
    assert answer["digit"] == "8"
    assert [n["yours"] for n in answer["neighbors"]] == [True] * 5
    # The app learned into its own copy: the model given to it is unchanged.
    assert lesson_model.n_examples_ == 0 and len(lesson_model._fit_X) == 1797


def test_a_bad_folder_name_stops_the_start_with_its_sentence(lesson_model, tmp_path):
    (tmp_path / "ex" / "eight").mkdir(parents=True)
    with pytest.raises(digitlab.DigitlabError, match="is not named after one of"):
        create_app(lesson_model, examples_dir=tmp_path / "ex")


@pytest.mark.parametrize("workers", [1, 2])
def test_an_example_saved_on_the_page_is_learned_at_once(
    lesson_model, tmp_path, workers
):
    folder = tmp_path / "ex"
    app = create_app(lesson_model, examples_dir=folder, workers=workers)
    with TestClient(app) as client:
        before = predict(client)
        assert before["digit"] == "9" and not any(
            n["yours"] for n in before["neighbors"]
        )
        assert model_facts(client)["n_examples"] == 0
        saved = client.post(
            "/api/examples", json={"image": data_url(EIGHT), "label": "8"}
        )
        assert saved.status_code == 201, saved.text
        body = saved.json()
        assert body["learned"] is True and body["n_examples"] == 1
        assert body["n_train"] == 1802 and body["label"] == "8"
        assert (folder / body["path"]).is_file()
        after = predict(client)
        assert after["digit"] == "8" and after["confidence"] == 1.0
        nearest = after["neighbors"][0]
        assert nearest["yours"] is True and nearest["distance"] == 0.0
        assert nearest["index"] == 1797
        assert model_facts(client)["n_examples"] == 1
        # The writer's other two-circle 8s read 8 as well.
        assert predict(client, DRAWN / "8_s0_chalk.png")["digit"] == "8"
        if workers == 2:
            pool = app.state.pictures
            first = pool.pids
            # Each worker learned it: with the first one gone the other answers,
            # and a worker started afterwards is sent every example so far.
            for pid in first:
                os.kill(pid, signal.SIGKILL)
                time.sleep(0.5)
                assert predict(client)["neighbors"][0]["yours"] is True
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (
                len(pool._workers) == 2
                and all(w.ready for w in pool._workers)
                and not set(pool.pids) & set(first)
            ):
                time.sleep(0.1)
            assert not set(pool.pids) & set(first)
            for _ in range(4):
                answer = predict(client)
                assert answer["digit"] == "8" and answer["neighbors"][0]["yours"]


def test_a_model_that_cannot_learn_still_saves(tmp_path):
    from digitlab.recipes import RecipeModel

    data = digitlab.load_digits()
    svc = RecipeModel("svc", pipeline="uci8x8").fit(data.X, data.y)
    folder = tmp_path / "ex"
    with TestClient(create_app(svc, examples_dir=folder)) as client:
        saved = client.post(
            "/api/examples", json={"image": data_url(EIGHT), "label": 8}
        )
        assert saved.status_code == 201, saved.text
        assert saved.json()["learned"] is False and saved.json()["n_examples"] == 0
        assert (folder / saved.json()["path"]).is_file()
        assert model_facts(client)["n_examples"] == 0


@pytest.mark.slow
def test_serve_with_examples_and_two_workers_learns_at_start_and_live(tmp_path):
    import httpx

    folder = tmp_path / "ex"
    (folder / "8").mkdir(parents=True)
    shutil.copy(DRAWN / "8_s0_scan.jpg", folder / "8" / "a.jpg")
    process = start_serve(tmp_path, "--workers", "2")  # examples: tmp_path / "ex"
    try:
        url = process.stdout.readline().strip().split()[4]
        with httpx.Client(timeout=60) as web:
            assert web.get(url + "/api/model").json()["n_examples"] == 1
            picture = {"image": data_url(DRAWN / "3_s1_blue.jpg")}
            saved = web.post(url + "/api/examples", json={**picture, "label": "3"})
            assert saved.status_code == 201, saved.text
            assert saved.json()["n_examples"] == 2
            assert web.get(url + "/api/model").json()["n_examples"] == 2
            # Six at once, so both workers take some (the killed-worker test
            # above proves each of them learns).
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(6) as ask:
                answers = list(
                    ask.map(
                        lambda _: web.post(url + "/api/predict", json=picture),
                        range(6),
                    )
                )
        for answer in answers:
            # The default model's own distance may forgive the copies' slant
            # too: the nearest is the example or one of its copies, very near.
            nearest = answer.json()["neighbors"][0]
            assert nearest["yours"] is True and nearest["distance"] < 1e-6
    finally:
        errors = interrupt(process)
    assert process.returncode == 0, errors
    assert len(list((folder / "3").glob("*.png"))) == 1
