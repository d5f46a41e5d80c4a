"""Shared fixtures: the built-in digits, the real MNIST test set when present, and a
real server with Debian's chromium for the browser tests."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

import digitlab

# ../shared/data/mnist from the project root; DIGITLAB_MNIST_DIR points elsewhere
# (e.g. from a git worktree that does not sit beside shared/).
MNIST_DIR = Path(
    os.environ.get("DIGITLAB_MNIST_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
)


@pytest.fixture(autouse=True)
def _digitlab_home(tmp_path_factory, monkeypatch):
    """Every test records its runs in a fresh folder, never in the user's home."""
    home = tmp_path_factory.mktemp("digitlab-home")
    monkeypatch.setenv("DIGITLAB_HOME", str(home))
    # The default model's rows are cached once per test session, not in ~/.cache.
    cache = tmp_path_factory.getbasetemp() / "digitlab-cache"
    monkeypatch.setenv("DIGITLAB_CACHE_DIR", str(cache))
    return home


@pytest.fixture(scope="session")
def digits():
    return digitlab.load_digits()


@pytest.fixture(scope="session")
def mnist_dir():
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the MNIST test set is not at {MNIST_DIR}")
    return MNIST_DIR


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright; skips when either is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"chromium is not installed at {CHROMIUM}")
    pytest.importorskip("playwright", reason="playwright is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def model():
    """The default model, built once per test module (the web tests serve it)."""
    return digitlab.default_model()


@pytest.fixture
def examples(tmp_path):
    """A fresh examples folder (not created: the app creates it on first save)."""
    return tmp_path / "examples"


@pytest.fixture
def client(model, examples):
    """FastAPI's TestClient over the app serving ``model``, used inside ``with``."""
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from fastapi.testclient import TestClient

    from digitlab.web import create_app

    with TestClient(create_app(model, examples_dir=examples)) as client:
        yield client


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``digitlab serve`` on a free 127.0.0.1 port: yields (url, examples folder)."""
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    import uvicorn

    from digitlab.web import create_app
    from digitlab.web.server import bind

    examples = tmp_path_factory.mktemp("examples")
    app = create_app(digitlab.default_model(), examples_dir=examples)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", examples
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
