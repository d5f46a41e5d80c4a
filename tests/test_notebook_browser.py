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
import site
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import digitlab
from browser_drawing import mouse_strokes, shot

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
SEVEN = [[(0.28, 0.2), (0.72, 0.2), (0.45, 0.85)]]
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
        for name in (
            "config",
            "data",
            "runtime",
            "settings",
            "workspaces",
            "ipython",
            "home",
        )
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
        # Anything else that writes under ~ writes here; packages installed
        # with --user are still found.
        HOME=str(folders["home"]),
        XDG_CACHE_HOME=str(folders["home"] / ".cache"),
        XDG_CONFIG_HOME=str(folders["home"] / ".config"),
        XDG_DATA_HOME=str(folders["home"] / ".local" / "share"),
        PYTHONUSERBASE=site.getuserbase(),
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


RECORD_POINTERS_JS = """(root) => {
  window.kinds = [];
  root.querySelector("canvas").addEventListener(
    "pointerdown", (e) => window.kinds.push(e.pointerType));
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
    mouse_strokes(page, pad.locator("canvas.dl-canvas"), strokes, steps=8)


def pen_draw(page, pad, cdp, stroke):
    """Draw one stroke with a pen (CDP mouse events of pointer type "pen"),
    checking that the answer arrives before the pen is lifted."""
    from playwright.sync_api import expect

    box = pad.locator("canvas.dl-canvas").bounding_box()

    def event(kind, p, **more):
        x = box["x"] + p[0] * box["width"]
        y = box["y"] + p[1] * box["height"]
        cdp.send(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": x, "y": y, "pointerType": "pen", "force": 0.6} | more,
        )

    (x0, y0), (x1, y1) = stroke[0], stroke[-1]
    event("mousePressed", stroke[0], button="left", buttons=1, clickCount=1)
    for step in range(1, 41):
        t = step / 40
        event("mouseMoved", (x0 + t * (x1 - x0), y0 + t * (y1 - y0)), buttons=1)
        if step % 10 == 0:
            page.wait_for_timeout(300)  # a pause longer than the debounce
    expect(pad.locator(".dl-digit")).to_have_text("1", timeout=20_000)  # pen down
    event("mouseReleased", stroke[-1], button="left", buttons=0, clickCount=1)


def touch_draw(pad, cdp, strokes):
    """Draw with a finger: touch events, which chromium makes pointer events."""
    box = pad.locator("canvas.dl-canvas").bounding_box()

    def at(p):
        return {
            "x": box["x"] + p[0] * box["width"],
            "y": box["y"] + p[1] * box["height"],
        }

    for stroke in strokes:
        touch = "Input.dispatchTouchEvent"
        cdp.send(touch, {"type": "touchStart", "touchPoints": [at(stroke[0])]})
        for a, b in zip(stroke, stroke[1:], strict=False):
            for t in (0.25, 0.5, 0.75, 1.0):
                point = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
                cdp.send(touch, {"type": "touchMove", "touchPoints": [at(point)]})
        cdp.send(touch, {"type": "touchEnd", "touchPoints": []})


def canvas_input(pad) -> list:
    """The pad's canvas prepared here, with the same preparation as the model."""
    import base64
    import io

    from PIL import Image

    url = pad.locator("canvas.dl-canvas").evaluate("(c) => c.toDataURL('image/png')")
    picture = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    with picture:
        row = digitlab.prepare(picture.copy(), pipeline="upright8x8")
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
            # Wide: the buttons under the canvas, the answer beside them.
            teach = pad.locator(".dl-teach").bounding_box()
            digit = pad.locator(".dl-digit").bounding_box()
            canvas = pad.locator("canvas.dl-canvas").bounding_box()
            assert teach["y"] > canvas["y"] + canvas["height"]
            assert digit["x"] > teach["x"] + teach["width"]
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

            # A narrow notebook (a laptop beside the file browser, Colab): the
            # pad wraps into one column and never scrolls sideways.
            page.set_viewport_size({"width": 760, "height": 1000})
            page.wait_for_timeout(300)
            widths = pad.evaluate("(r) => [r.scrollWidth, r.clientWidth]")
            assert widths[0] <= widths[1], widths
            canvas = pad.locator("canvas.dl-canvas").bounding_box()
            grid = pad.locator(".dl-grid").bounding_box()
            assert grid["y"] > canvas["y"] + canvas["height"]  # below, not beside
            # The answer comes right under the drawing, before the buttons.
            digit = pad.locator(".dl-digit").bounding_box()
            teach = pad.locator(".dl-teach").bounding_box()
            assert canvas["y"] < digit["y"] < teach["y"]
            pad.scroll_into_view_if_needed()
            shot(page, "notebook-4-narrow")

            # A pen, live: the answer comes while the pen is still down
            # (debounced), and a finger draws too.
            pad.locator(".dl-clear").click()
            settle(pad, "?")
            pad.evaluate(RECORD_POINTERS_JS)
            cdp = page.context.new_cdp_session(page)
            pen_draw(page, pad, cdp, ONE[0])
            settle(pad, "1")
            pad.locator(".dl-clear").click()
            settle(pad, "?")
            touch_draw(pad, cdp, SEVEN)
            settle(pad, "7")
            assert page.evaluate("() => window.kinds") == ["pen", "touch"]
        except Exception:
            shot(page, "notebook-4-failed")  # what the page showed when it failed
            raise
        finally:
            browser.close()
    assert errors == [], errors
    assert outside == [], f"requests left 127.0.0.1: {outside}"
