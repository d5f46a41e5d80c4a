"""The drawing page in a real browser: Debian's chromium driven by Playwright.

A real uvicorn server runs on a free 127.0.0.1 port in a thread (the ``server``
and ``browser`` fixtures of conftest.py); the test draws digits with the mouse on
the canvas and reads what the page shows. Set ``DIGITLAB_SCREENSHOTS=DIR`` to keep
the screenshots for looking at.
"""

from __future__ import annotations

import base64
import io
import json
import math
from pathlib import Path

import pytest
from PIL import Image

import digitlab
from browser_drawing import mouse_strokes, shot

pytest.importorskip("fastapi", reason="the web extra is not installed")
pytest.importorskip("playwright", reason="playwright is not installed")

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Strokes in fractions of the canvas (x, y), drawn the way people draw them.
ONE = [[(0.52, 0.15), (0.50, 0.85)]]
SEVEN = [[(0.28, 0.2), (0.72, 0.2), (0.45, 0.85)]]
ZERO = [
    [
        (0.5 + 0.22 * math.sin(a), 0.5 - 0.33 * math.cos(a))
        for a in (t / 24 * 2 * math.pi for t in range(25))
    ]
]
THREE = [
    [(0.32, 0.22), (0.45, 0.15), (0.6, 0.16), (0.66, 0.27), (0.6, 0.4), (0.47, 0.47)],
    [(0.47, 0.47), (0.62, 0.53), (0.68, 0.66), (0.6, 0.8), (0.45, 0.85), (0.3, 0.78)],
]


@pytest.fixture
def page(browser, server):
    url, _ = server
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("pageerror", lambda e: failed.append(str(e)))
    page.goto(url)
    page.wait_for_selector("#model-line:has-text('Model:')")
    yield page
    context.close()
    assert failed == [], failed


def draw(page, strokes):
    mouse_strokes(page, page.locator("#pad"), strokes, steps=6)
    settle(page)


def settle(page):
    """Wait until the answer to the latest request is on the page."""
    from playwright.sync_api import expect

    expect(page.locator("body")).to_have_attribute("data-state", "ready")


SHOWN_JS = """() => {
  const all = (selector) => [...document.querySelectorAll(selector)];
  const error = document.getElementById("error");
  return {
    digit: document.getElementById("digit").textContent,
    error: error.hidden ? null : error.textContent,
    votes: Object.fromEntries(all("#votes li").map(
      (li) => [li.dataset.label, li.querySelector(".share").textContent])),
    top: all("#votes li.top").map((li) => li.dataset.label),
    cells: all("#grid .cell").map((c) => Number(c.textContent)),
    neighbors: all("#neighbors .neighbor").map(
      (n) => [n.dataset.label, Number(n.dataset.distance)]),
  };
}"""


def shown(page) -> dict:
    """What the page shows: the digit, votes, the grid and the neighbors."""
    return page.evaluate(SHOWN_JS)


@pytest.mark.parametrize(
    ("digit", "strokes"), [("1", ONE), ("0", ZERO), ("7", SEVEN), ("3", THREE)]
)
def test_drawing_a_digit_shows_it_with_its_input_and_neighbors(page, digit, strokes):
    # The default model: the 1,797 digits, 4 copies of each, 7s without a bar.
    n_train = len(digitlab.default_model()._fit_X)
    assert f"trained on {n_train:,} rows made from scikit-learn's 1,797 digits" in (
        page.locator("#model-line").inner_text()
    )
    assert (
        page.locator("#input-note")
        .inner_text()
        .startswith("Your drawing straightened (its slant taken out) and shrunk")
    )
    bodies = []
    page.on(
        "request",
        lambda r: (
            bodies.append(r.post_data) if r.url.endswith("/api/predict") else None
        ),
    )
    draw(page, strokes)
    seen = shown(page)
    shot(page, f"drew-{digit}")
    assert seen["error"] is None
    assert seen["digit"] == digit
    assert seen["top"] == [digit]
    assert len(seen["cells"]) == 64
    assert all(0 <= c <= 16 for c in seen["cells"]) and sum(seen["cells"]) > 0
    assert len(seen["neighbors"]) == 5
    distances = [d for _, d in seen["neighbors"]]
    assert distances == sorted(distances) and distances[0] > 0
    labels = [label for label, _ in seen["neighbors"]]
    # The vote bars are the neighbor labels counted: 5 neighbors, 20 % each.
    assert seen["votes"][digit] == f"{labels.count(digit) * 20} %"
    # The page sends the drawing at half size (140×140) and shows exactly what
    # the API says for it; the whole 280×280 canvas gets the same digit.
    picture = json.loads(bodies[-1])["image"]
    sent = Image.open(io.BytesIO(base64.b64decode(picture.split(",", 1)[1])))
    assert sent.size == (140, 140)
    answer = page.request.post(page.url + "api/predict", data={"image": picture}).json()
    assert answer["digit"] == digit
    assert [int(v) for row in answer["input"] for v in row] == seen["cells"]
    assert [[n["label"], n["distance"]] for n in answer["neighbors"]] == seen[
        "neighbors"
    ]
    canvas = page.evaluate("() => document.getElementById('pad').toDataURL()")
    whole = page.request.post(page.url + "api/predict", data={"image": canvas})
    assert whole.json()["digit"] == digit


def test_predictions_arrive_while_drawing_debounced(page):
    sent = []
    page.on(
        "request",
        lambda r: sent.append(r.url) if r.url.endswith("/api/predict") else None,
    )
    box = page.locator("#pad").bounding_box()

    def at(x, y):
        return box["x"] + x * box["width"], box["y"] + y * box["height"]

    page.mouse.move(*at(0.5, 0.12))
    page.mouse.down()
    moves = 0
    for y in (0.3, 0.45, 0.6, 0.75, 0.88):
        page.mouse.move(*at(0.5, y), steps=10)  # 10 pointer moves, quickly
        moves += 10
        page.wait_for_timeout(400)  # a pause longer than the debounce
    # Live: the model answers while the pen is still down ...
    page.wait_for_function("() => document.getElementById('digit').textContent !== '?'")
    assert page.locator("#digit").text_content() == "1"
    page.mouse.up()
    settle(page)
    # ... but debounced: about one request per pause, not one per move.
    assert 5 <= len(sent) <= 7 < moves
    assert shown(page)["digit"] == "1"


def test_undo_clear_and_keys(page):
    draw(page, SEVEN)
    assert shown(page)["digit"] == "7"
    draw(page, [[(0.1, 0.9), (0.9, 0.95)]])  # a scribble across the bottom
    page.click("#undo")
    settle(page)
    assert shown(page)["digit"] == "7"
    page.click("#clear")
    settle(page)
    seen = shown(page)
    assert seen["digit"] == "?" and seen["neighbors"] == [] and sum(seen["cells"]) == 0
    assert page.locator("#label-buttons button:disabled").count() == 10
    # The keyboard does the same: Ctrl+Z undoes, Escape clears.
    draw(page, ONE)
    draw(page, [[(0.2, 0.5), (0.8, 0.5)]])
    page.keyboard.press("Control+z")
    settle(page)
    assert shown(page)["digit"] == "1"
    page.keyboard.press("Escape")
    settle(page)
    assert shown(page)["digit"] == "?"


def test_every_control_is_reachable_with_tab(page):
    reached = set()
    for _ in range(20):
        page.keyboard.press("Tab")
        reached.add(
            page.evaluate(
                "() => document.activeElement.id || "
                "document.activeElement.dataset.label || ''"
            )
        )
    assert {"pad", "undo", "clear", "upload-input"} <= reached


def test_that_was_a_saves_the_drawing(page, server):
    _, examples = server
    draw(page, SEVEN)
    page.get_by_role("button", name="that was a 7: save the drawing as a 7").click()
    status = page.locator("#save-status")
    from playwright.sync_api import expect

    expect(status).to_contain_text("Saved as 7/")
    shot(page, "saved-7")
    saved = sorted((examples / "7").glob("*.png"))
    assert len(saved) >= 1
    name = status.text_content().split("Saved as 7/")[1].split(" ")[0]
    assert (examples / "7" / name).is_file()
    model = digitlab.default_model()
    assert model.predict_pictures([str(examples / "7" / name)]).tolist() == [7]


def test_uploading_a_picture(page, tmp_path):
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (240, 320), (250, 248, 240))
    ImageDraw.Draw(picture).line([(120, 40), (118, 280)], fill=(30, 30, 90), width=22)
    path = tmp_path / "one.jpg"
    picture.save(path, quality=80)
    page.set_input_files("#upload-input", str(path))
    from playwright.sync_api import expect

    expect(page.locator("#digit")).to_have_text("1")
    settle(page)
    assert len(shown(page)["neighbors"]) == 5
    # Not a picture: the server's sentence is shown, nothing breaks.
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    page.set_input_files("#upload-input", str(bad))
    expect(page.locator("#error")).to_contain_text("is not a picture")
    shot(page, "upload-error")


def touch_draw(page, cdp, strokes):
    """Draw with a finger: real touch events, which chromium turns into pointer
    events of type "touch"."""
    box = page.locator("#pad").bounding_box()

    def at(p):
        return {
            "x": box["x"] + p[0] * box["width"],
            "y": box["y"] + p[1] * box["height"],
        }

    for stroke in strokes:
        cdp.send(
            "Input.dispatchTouchEvent",
            {"type": "touchStart", "touchPoints": [at(stroke[0])]},
        )
        for a, b in zip(stroke, stroke[1:], strict=False):
            for t in (0.25, 0.5, 0.75, 1.0):
                point = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
                cdp.send(
                    "Input.dispatchTouchEvent",
                    {"type": "touchMove", "touchPoints": [at(point)]},
                )
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    settle(page)


def test_readable_and_drawable_on_a_phone(browser, server):
    url, _ = server
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        has_touch=True,
        is_mobile=True,
    )
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#model-line:has-text('Model:')")
    page.evaluate(
        "window.kinds = []; document.getElementById('pad').addEventListener("
        "'pointerdown', (e) => window.kinds.push(e.pointerType))"
    )
    cdp = context.new_cdp_session(page)
    touch_draw(page, cdp, SEVEN)
    seen = shown(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    scroll = page.evaluate("() => window.scrollY")
    box = page.locator("#pad").bounding_box()
    quick = page.locator("#quick").text_content()
    kinds = page.evaluate("() => window.kinds")
    shot(page, "phone")
    context.close()
    assert kinds == ["touch"]
    assert seen["digit"] == "7" and len(seen["neighbors"]) == 5
    assert quick.startswith("The model says 7")
    assert scroll == 0, "drawing scrolled the page"
    assert width <= 390, "the page scrolls sideways on a phone"
    assert 250 <= box["width"] <= 390


def test_vote_bars_fill_in_proportion_to_the_votes(page):
    draw(page, SEVEN)
    page.wait_for_timeout(400)  # the bars' width transition takes 0.15 s
    bars = page.evaluate(
        """() => [...document.querySelectorAll('#votes li')].map((li) => ({
          label: li.dataset.label,
          share: Number(li.querySelector('.share').textContent.split(' ')[0]),
          track: li.querySelector('.track').getBoundingClientRect().width,
          fill: li.querySelector('.fill').getBoundingClientRect().width,
        }))"""
    )
    shot(page, "vote-bars")
    assert sum(b["share"] for b in bars) == 100
    top = next(b for b in bars if b["label"] == "7")
    assert top["share"] >= 60 and top["track"] > 100
    for bar in bars:
        # The rendered width is the vote share of the track (shares are whole
        # per cents of 5 votes here, so the rounding is exact).
        assert bar["fill"] == pytest.approx(bar["track"] * bar["share"] / 100, abs=1)


RING_JS = """() => {
  const el = document.activeElement;
  // The file input is hidden; its label, right after it, is the visible button.
  const shown = el.id === 'upload-input' ? el.nextElementSibling : el;
  const style = getComputedStyle(shown);
  return {
    id: el.id || el.dataset.label || el.textContent.trim(),
    shown: shown.id || shown.tagName,
    outline: style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth),
    shadow: style.boxShadow,
  };
}"""


def test_every_control_shows_a_focus_ring(page):
    draw(page, ONE)  # the "that was a ..." buttons take focus once enabled
    page.mouse.click(5, 5)  # focus leaves the drawing, on the page itself
    rings = {}
    for _ in range(22):
        page.keyboard.press("Tab")
        ring = page.evaluate(RING_JS)
        if ring["shown"] == "BODY":  # past the last control: out of the page
            continue
        rings[ring["id"]] = ring
        if ring["id"] == "upload-input":
            shot(page, "focus-upload")
    assert {"pad", "undo", "clear", "upload-input", "0", "9"} <= set(rings)
    assert rings["upload-input"]["shown"] == "upload-button"
    for ring in rings.values():
        assert ring["outline"] >= 2 or ring["shadow"] != "none", ring


def test_the_docs_link_back_to_the_page(browser, server):
    url, _ = server
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/docs")
    back = page.locator("a", has_text="Back to the drawing page")
    back.wait_for()
    assert back.get_attribute("href") == "/"
    shot(page, "docs")
    # Swagger UI opens the links of the API's description in a new tab.
    with context.expect_page() as opened:
        back.click()
    drawing = opened.value
    drawing.wait_for_selector("#model-line:has-text('Model:')")
    assert drawing.url == url + "/"
    context.close()


def test_the_saved_message_clears_with_the_drawing(page):
    from playwright.sync_api import expect

    status = page.locator("#save-status")
    hint = status.text_content()
    assert hint.startswith("Tell the model what your drawing really is")
    for clear in (lambda: page.click("#clear"), lambda: page.keyboard.press("Escape")):
        draw(page, SEVEN)
        page.get_by_role("button", name="that was a 7: save the drawing as a 7").click()
        expect(status).to_contain_text("Saved as 7/")
        expect(status).to_contain_text("and learned")
        clear()
        settle(page)
        expect(status).to_have_text(hint)


@pytest.fixture(scope="module")
def lesson_page(browser, tmp_path_factory):
    """A page served with k=5 on the 1,797 built-in digits (fixed, whatever the
    default model becomes), with one example already in its folder."""
    import shutil
    import threading
    import time

    import uvicorn

    from digitlab.web import create_app
    from digitlab.web.server import bind

    examples = tmp_path_factory.mktemp("lesson-examples")
    (examples / "4").mkdir()
    shutil.copy(DRAWN / "4_s1_paper.png", examples / "4" / "a.png")
    data = digitlab.load_digits()
    model = digitlab.KNN(5, pipeline="uci8x8").fit(data.X, data.y)
    app = create_app(model, examples_dir=examples)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{sock.getsockname()[1]}/")
    page.wait_for_selector("#model-line:has-text('Model:')")
    yield page, examples
    context.close()
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


DRAWN = Path(__file__).parent / "fixtures" / "drawn"


def test_an_example_taught_on_the_page_changes_the_next_answer(lesson_page):
    from playwright.sync_api import expect

    page, examples = lesson_page
    count = page.locator("#examples-count")
    # The example already in the folder was learned at the start, and said.
    expect(count).to_have_text("The model has learned 1 example of yours.")
    assert (
        "trained on scikit-learn's 1,797 digits"
        in page.locator("#model-line").inner_text()
    )
    # An 8 drawn as two stacked circles: the built-in digits read it as a 9.
    page.set_input_files("#upload-input", str(DRAWN / "8_s0_paper.png"))
    expect(page.locator("#digit")).to_have_text("9")
    settle(page)
    assert page.locator("#neighbors .neighbor.yours").count() == 0
    page.get_by_role("button", name="that was a 8: save the drawing as a 8").click()
    expect(page.locator("#save-status")).to_contain_text("and learned")
    # The page asks again at once: the answer is now 8, from the user's example.
    expect(page.locator("#digit")).to_have_text("8")
    settle(page)
    expect(count).to_have_text("The model has learned 2 examples of yours.")
    shot(page, "taught-8")
    seen = shown(page)
    assert [label for label, _ in seen["neighbors"]] == ["8"] * 5
    assert page.locator("#confidence").text_content() == (
        "100 % of the 5 nearest training digits say 8 (all of them your examples)."
    )
    assert seen["neighbors"][0][1] == 0.0
    mine = page.locator("#neighbors .neighbor.yours")
    assert mine.count() == 5
    assert mine.first.locator(".nyours").text_content() == "yours"
    assert mine.first.get_attribute("data-yours") == "true"
    assert len(list((examples / "8").glob("*.png"))) == 1
