"""The HTML report: its file contents, and the file opened in a real chromium."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from digitlab import DigitlabError, mistakes_on_split
from digitlab.report import render_report


@pytest.fixture(scope="module")
def lesson():
    return mistakes_on_split()


@pytest.fixture(scope="module")
def report_file(lesson, tmp_path_factory):
    return lesson.to_html(tmp_path_factory.mktemp("report") / "mistakes.html")


def test_report_is_one_self_contained_file(report_file):
    html = report_file.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert "Accuracy 0.975 (9 wrong of 360)" in html
    assert "Most confused: 8 → 3 (2), 1 → 5 (1)" in html
    # Nothing is fetched: no external URL, no script, no external style sheet.
    assert not re.search(r"(src|href)=\"(?!data:|#)", html)
    assert "http" not in html and "<script" not in html and "<link" not in html
    # Every wrong digit with its 5 neighbors, all pictures inlined.
    assert html.count('class="mistake"') == 9
    assert html.count('src="data:image/png;base64,') == 9 * 6
    assert html.count("Tie: labels") == 2


def test_report_cells_link_to_their_pair(lesson, report_file):
    html = report_file.read_text(encoding="utf-8")
    links = re.findall(r'<a href="#pair-(\d+)-(\d+)"[^>]*>(\d+)</a>', html)
    expected = [
        (str(i), str(j), str(lesson.confusion[i, j]))
        for i in range(10)
        for j in range(10)
        if i != j and lesson.confusion[i, j]
    ]
    assert links == expected
    for i, j, count in links:
        section = re.search(
            rf'<section class="pair" id="pair-{i}-{j}">(.*?)</section>', html
        )
        assert section, f"no gallery section for {i} → {j}"
        cases = re.findall(
            r'<div class="mistake" data-true="(\d+)" data-predicted="(\d+)"',
            section.group(1),
        )
        assert cases == [(i, j)] * int(count)


def test_report_pictures_are_the_digits(lesson, report_file, digits):
    html = report_file.read_text(encoding="utf-8")
    first = re.search(r'data:image/png;base64,([^"]+)"', html).group(1)
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(first))))
    # The first section is 8 → 3; its first digit is data row 899 (test row 122).
    assert lesson.pairs[0].true == 8 and lesson.examples_of(8, 3)[0].data_row == 899
    expected = np.round(255 * (1 - digits.images[899] / 16)).astype(np.uint8)
    assert picture.shape == (8, 8)
    assert np.array_equal(picture, expected)


def test_report_is_deterministic_and_never_overwritten(lesson, report_file):
    assert render_report(lesson) == render_report(mistakes_on_split())
    before = report_file.read_bytes()
    with pytest.raises(DigitlabError, match="already exists"):
        mistakes_on_split(k=1).to_html(report_file)
    assert report_file.read_bytes() == before
    mistakes_on_split(k=1).to_html(report_file, force=True)
    assert report_file.read_text().count('class="mistake"') == 4
    report_file.write_bytes(before)


@pytest.mark.browser
@pytest.mark.slow
def test_report_in_chromium_cell_click_shows_that_pair(
    browser, lesson, report_file, tmp_path
):
    problems, requests = [], []
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.on(
            "console",
            lambda msg: problems.append(msg.text) if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("request", lambda req: requests.append(req.url))
        page.goto(report_file.as_uri())
        assert page.title() == "digitlab mistakes"
        assert page.locator("section.pair:visible").count() == len(lesson.pairs)
        # Every picture decoded: 8×8 pixels shown at 64 or 40 CSS pixels.
        sizes = page.eval_on_selector_all(
            "img.digit", "imgs => imgs.map(i => [i.naturalWidth, i.complete])"
        )
        assert len(sizes) == 54 and all(s == [8, True] for s in sizes)

        page.click('table.confusion a[href="#pair-8-3"]')
        assert page.url.endswith("#pair-8-3")
        shown = page.locator("section.pair:visible")
        assert shown.count() == 1
        assert shown.locator("h3").inner_text() == "true 8 → predicted 3 (2)"
        cases = page.locator(".mistake:visible")
        assert cases.count() == 2
        for n in range(2):
            assert cases.nth(n).get_attribute("data-true") == "8"
            assert cases.nth(n).get_attribute("data-predicted") == "3"
        assert "test row 122, data row 899" in cases.nth(0).inner_text()
        assert shown.is_visible() and shown.bounding_box()["y"] < 900
        page.screenshot(path=str(tmp_path / "pair-8-3.png"))

        page.click('table.confusion a[href="#pair-4-7"]')
        assert page.locator(".mistake:visible").count() == 1
        assert "test row 315" in page.locator(".mistake:visible").inner_text()

        page.click('a[href="#gallery"]')
        assert page.locator(".mistake:visible").count() == 9
    finally:
        page.close()
    assert problems == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests


def test_report_of_28x28_pictures_and_rates(tmp_path):
    from digitlab import Dataset

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(120, 784)).astype(np.float64)
    y = rng.integers(0, 3, size=120)
    data = Dataset(X=X, y=y, images=X.reshape(-1, 28, 28), source="noise")
    result = mistakes_on_split(data, k=3, test_size=30)
    assert result.n_wrong > 0  # random labels: many mistakes
    path = result.to_html(tmp_path / "noise.html", normalize="true")
    html = path.read_text()
    uris = re.findall(r'data:image/png;base64,([^"]+)"', html)
    assert len(uris) == result.n_wrong * 4
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(uris[0]))))
    first = result.examples_of(result.pairs[0].true, result.pairs[0].predicted)[0]
    vmax = max(
        float(np.max(img))
        for m in result.examples
        for img in [m.image, *(n.image for n in m.neighbors)]
    )
    assert picture.shape == (28, 28)
    assert np.array_equal(picture, np.round(255 * (1 - first.image / vmax)))
    # Cells show rates (rows sum to 1) with three decimals.
    i = int(np.flatnonzero(result.labels == result.pairs[0].true)[0])
    j = int(np.flatnonzero(result.labels == result.pairs[0].predicted)[0])
    rate = result.confusion_rates("true")[i, j]
    assert re.search(rf'href="#pair-{i}-{j}"[^>]*>{rate:.3f}</a>', html)
