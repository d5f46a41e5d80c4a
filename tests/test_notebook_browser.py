"""Notebook 4 in a real JupyterLab, driven by Debian's chromium through Playwright.

The test starts ``jupyter lab`` on a free 127.0.0.1 port with a random token and
its own config, data, runtime and settings folders (never the user's), opens
notebooks/04_draw.ipynb (a copy), runs all cells from the Run menu, draws digits
with the mouse on the pad and reads what the pad shows. Set
``DIGITLAB_SCREENSHOTS=DIR`` to keep the screenshots for looking at.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import digitlab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_draw.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Strokes in fractions of the canvas (x, y).
ONE = [[(0.52, 0.15), (0.50, 0.85)]]
BAR = [[(0.15, 0.5), (0.85, 0.52)]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_server(url: str, process, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise AssertionError(
                f"jupyter lab exited with code {process.returncode}:\n{tail}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    tail = log.read_text(errors="replace")[-3000:]
    raise AssertionError(
        f"jupyter lab did not answer {url} in {seconds:.0f} s:\n{tail}"
    )


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab serving a copy of notebook 4: yields (url, token, root)."""
    if not CHROMIUM.exists():
        pytest.skip(f"chromium is not installed at {CHROMIUM}")
    pytest.importorskip("jupyterlab", reason="jupyterlab is not installed")
    pytest.importorskip("anywidget", reason="the notebook extra is not installed")
    pytest.importorskip("playwright", reason="playwright is not installed")
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    # The lab's own folders, so nothing of the user's is read or written.
    folders = {
        name: tmp_path / "jupyter" / name
        for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")
    }
    for folder in folders.values():
        folder.mkdir(parents=True)
    # No news or update checks: nothing may leave 127.0.0.1.
    notification = folders["settings"] / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(folders["config"]),
        JUPYTER_DATA_DIR=str(folders["data"]),
        JUPYTER_RUNTIME_DIR=str(folders["runtime"]),
        JUPYTERLAB_SETTINGS_DIR=str(folders["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(folders["workspaces"]),
        IPYTHONDIR=str(folders["ipython"]),
        JUPYTER_PLATFORM_DIRS="1",
        # The kernel imports this checkout's digitlab; DIGITLAB_HOME and
        # DIGITLAB_CACHE_DIR come from conftest (a fresh folder, never ~).
        PYTHONPATH=os.pathsep.join(
            [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    )
    token = secrets.token_hex(16)
    port = _free_port()
    log = tmp_path / "jupyter-lab.log"
    with log.open("wb") as output:  # the child keeps its own copy of the file
        process = _start(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                f"--IdentityProvider.token={token}",
                "--ServerApp.ip=127.0.0.1",
                f"--port={port}",
                "--ServerApp.port_retries=0",
                f"--ServerApp.root_dir={root}",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly",  # never asks PyPI
                # window.jupyterapp, to wait until the kernel is connected.
                "--LabApp.expose_app_in_browser=True",
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            env,
            output,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        # The kernel reads the default model's rows from the cache: build it
        # here while the server starts.
        digitlab.default_model()
        _wait_for_server(f"{url}/api/status?token={token}", process, log, seconds=60)
        yield url, token, root
    finally:
        _stop(process)


def _start(command, env, output):
    return subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the server and its kernel stop together
    )


def _stop(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def shot(page, name):
    folder = os.environ.get("DIGITLAB_SCREENSHOTS")
    if folder:
        page.wait_for_timeout(400)  # the vote bars' transition ends
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


SHOWN_JS = """(root) => {
  const all = (selector) => [...root.querySelectorAll(selector)];
  const error = root.querySelector(".dl-error");
  return {
    state: root.dataset.state,
    digit: root.querySelector(".dl-digit").textContent,
    error: error.hidden ? null : error.textContent,
    top: all(".dl-votes li.dl-top").map((li) => li.dataset.label),
    shares: Object.fromEntries(all(".dl-votes li").map(
      (li) => [li.dataset.label, li.querySelector(".dl-share").textContent])),
    fills: all(".dl-votes li").map((li) => [
      li.querySelector(".dl-fill").getBoundingClientRect().width,
      li.querySelector(".dl-track").getBoundingClientRect().width]),
    cells: all(".dl-grid .dl-cell").map((c) => Number(c.textContent)),
    neighbors: all(".dl-neighbor").map((n) => ({
      label: n.dataset.label, distance: Number(n.dataset.distance),
      index: Number(n.dataset.index), yours: n.classList.contains("dl-yours")})),
    status: root.querySelector(".dl-status").textContent,
    model: root.querySelector(".dl-model").textContent,
  };
}"""


# Whether a label's vote bar has reached its share (the width has a transition).
FILLED_JS = """([root, label]) => {
  const li = root.querySelector(`.dl-votes li[data-label="${label}"]`);
  const share = parseFloat(li.querySelector(".dl-share").textContent) / 100;
  const fill = li.querySelector(".dl-fill").getBoundingClientRect().width;
  const track = li.querySelector(".dl-track").getBoundingClientRect().width;
  return Math.abs(fill - share * track) < 1;
}"""


KERNEL_READY_JS = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = widget && widget.sessionContext && widget.sessionContext.session
    && widget.sessionContext.session.kernel;
  return Boolean(kernel && kernel.connectionStatus === "connected"
    && kernel.status === "idle");
}"""


def shown(pad) -> dict:
    return pad.evaluate(SHOWN_JS)


def settle(pad, digit=None):
    """Wait until the pad shows the kernel's answer to the latest drawing."""
    from playwright.sync_api import expect

    expect(pad).to_have_attribute("data-state", "ready", timeout=20_000)
    if digit is not None:
        expect(pad.locator(".dl-digit")).to_have_text(digit, timeout=20_000)


def draw(page, pad, strokes):
    box = pad.locator("canvas.dl-canvas").bounding_box()

    def at(p):
        return box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"]

    for stroke in strokes:
        page.mouse.move(*at(stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*at(point), steps=8)
        page.mouse.up()


def canvas_input(pad) -> list:
    """The pad's canvas prepared here, with the same preparation as the model."""
    import base64
    import io

    from PIL import Image

    url = pad.locator("canvas.dl-canvas").evaluate("(c) => c.toDataURL('image/png')")
    picture = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    with picture:
        row = digitlab.prepare(picture.copy(), pipeline="uci8x8")
    return row.reshape(8, 8).tolist()


def test_notebook_4_runs_and_the_pad_reads_a_drawn_digit(jupyterlab):
    from playwright.sync_api import expect, sync_playwright

    url, token, _ = jupyterlab
    outside, errors = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on(
                "request",
                lambda r: (
                    None
                    if r.url.startswith((url, "data:", "blob:"))
                    else outside.append(r.url)
                ),
            )
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=45_000)
            # Cells run before the page's kernel connection is up are skipped.
            page.wait_for_function(KERNEL_READY_JS, timeout=60_000, polling=250)
            # Run ▸ Run All Cells, as a learner does (a click in the notebook
            # first makes it the current widget the Run menu acts on).
            page.locator(".jp-Notebook .jp-Cell").first.click()
            page.locator(".lm-MenuBar-itemLabel:text-is('Run')").click()
            page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
            pad = page.locator(".digitlab-pad")
            expect(pad).to_have_count(1, timeout=45_000)
            # The notebook drew a 7 in code and taught it: the pad shows the 7
            # the kernel set, with the taught drawing as its nearest neighbor.
            expect(pad.locator(".dl-status")).to_contain_text(
                "Learned your 7: the model now holds 1 of your drawings", timeout=45_000
            )
            expect(page.locator(".jp-InputPrompt:has-text('*')")).to_have_count(
                0, timeout=30_000
            )
            settle(pad, "7")
            pad.scroll_into_view_if_needed()
            seen = shown(pad)
            assert "holds 1 of your drawings" in seen["model"], seen["model"]
            nearest = seen["neighbors"][0]
            assert (nearest["label"], nearest["distance"], nearest["yours"]) == (
                "7",
                0,
                True,
            )
            shot(page, "notebook-4-after-run-all")
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            assert any("The model says 7" in text for text in outputs), outputs
            stderr = page.locator(".jp-RenderedText[data-mime-type*='stderr']")
            assert stderr.count() == 0, stderr.all_inner_texts()

            # Clear, then draw a 1 with the mouse.
            pad.locator(".dl-clear").click()
            settle(pad, "?")
            assert sum(shown(pad)["cells"]) == 0
            draw(page, pad, ONE)
            settle(pad, "1")
            pad.scroll_into_view_if_needed()
            shot(page, "notebook-4-drew-1")
            seen = shown(pad)
            assert seen["error"] is None and seen["top"] == ["1"]
            # The 8×8 grid is what the model sees: the canvas, prepared here.
            assert len(seen["cells"]) == 64 and sum(seen["cells"]) > 0
            assert np.reshape(seen["cells"], (8, 8)).tolist() == canvas_input(pad)
            # The 5 nearest training digits, nearest first.
            assert len(seen["neighbors"]) == 5
            distances = [n["distance"] for n in seen["neighbors"]]
            assert distances == sorted(distances) and distances[0] > 0
            labels = [n["label"] for n in seen["neighbors"]]
            assert seen["shares"]["1"] == f"{labels.count('1') * 20} %"
            # The bars really fill: the 1's bar grows to its share of the track.
            page.wait_for_function(FILLED_JS, arg=[pad.element_handle(), "1"])
            fill, track = shown(pad)["fills"][1]
            assert track > 50 and fill == pytest.approx(
                track * labels.count("1") / 5, abs=1.5
            )

            # A stray stroke, taken back with Ctrl+Z (not JupyterLab's undo).
            draw(page, pad, BAR)
            settle(pad)
            page.keyboard.press("Control+z")
            settle(pad, "1")
            assert np.reshape(shown(pad)["cells"], (8, 8)).tolist() == canvas_input(pad)

            # "That was a 1": the kernel learns it at once, as its next row.
            rows = re.search(r"trained on ([\d,]+) rows", seen["model"])[1]
            n_train = int(rows.replace(",", ""))
            pad.get_by_role("button", name="that was a 1: teach").click()
            expect(pad.locator(".dl-status")).to_contain_text(
                "Learned your 1: the model now holds 2 of your drawings"
            )
            settle(pad, "1")
            seen = shown(pad)
            assert seen["neighbors"][0] == {
                "label": "1",
                "distance": 0,
                "index": n_train,
                "yours": True,
            }
            assert "holds 2 of your drawings" in seen["model"]
            shot(page, "notebook-4-taught-1")
        except Exception:
            shot(page, "notebook-4-failed")  # what the page showed when it failed
            raise
        finally:
            browser.close()
    assert errors == [], errors
    assert outside == [], f"requests left 127.0.0.1: {outside}"
