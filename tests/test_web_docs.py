"""The API documentation at /docs works offline: Swagger UI comes from this server.

FastAPI's own /docs loads Swagger UI from a CDN and shows a blank page without
the internet; digitlab serves the copy that the fastapi-offline package ships.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import digitlab

pytest.importorskip("fastapi", reason="the web extra is not installed")
fastapi_offline = pytest.importorskip(
    "fastapi_offline", reason="the web extra is not installed"
)
from fastapi.testclient import TestClient  # noqa: E402

from digitlab.web import create_app  # noqa: E402
from digitlab.web.app import DOCS_POLICY, PAGE_POLICY  # noqa: E402

SHIPPED = Path(fastapi_offline.__file__).parent / "static"


class _References(HTMLParser):
    """Every URL a page loads by itself: script src, link href, img src."""

    def __init__(self):
        super().__init__()
        self.urls = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            if attrs.get("src"):
                self.urls.append(attrs["src"])
            else:
                self.inline_scripts += 1
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag in ("img", "iframe") and attrs.get("src"):
            self.urls.append(attrs["src"])


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(digitlab.default_model())) as client:
        yield client


def references(html: str) -> _References:
    parser = _References()
    parser.feed(html)
    return parser


def test_docs_page_loads_swagger_ui_from_this_server(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>digitlab - Swagger UI</title>" in r.text
    # No origin anywhere in the page, not only in src/href.
    assert re.findall(r"(?:https?:)?//[\w.-]+", r.text) == []
    found = references(r.text)
    assert found.urls == [
        "/docs-assets/swagger-ui.css",
        "/docs-assets/favicon.png",
        "/docs-assets/swagger-ui-bundle.js",
    ]
    assert found.inline_scripts == 1  # SwaggerUIBundle({url: '/openapi.json', ...})
    assert "url: '/openapi.json'" in r.text


@pytest.mark.parametrize(
    ("url", "content_type", "shipped"),
    [
        (
            "/docs-assets/swagger-ui-bundle.js",
            "text/javascript; charset=utf-8",
            "swagger-ui-bundle.js",
        ),
        ("/docs-assets/swagger-ui.css", "text/css; charset=utf-8", "swagger-ui.css"),
        ("/docs-assets/favicon.png", "image/png", "favicon.png"),
    ],
)
def test_swagger_ui_assets_are_served_from_the_package(
    client, url, content_type, shipped
):
    r = client.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"] == content_type
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.content == (SHIPPED / shipped).read_bytes()
    assert len(r.content) > 5000


def test_docs_get_a_policy_without_other_origins_and_the_page_keeps_its_own(client):
    docs = client.get("/docs")
    assert docs.headers["content-security-policy"] == DOCS_POLICY
    sources = re.findall(r"[\w-]+-src ([^;]+)", DOCS_POLICY)
    allowed = {word for words in sources for word in words.split()}
    assert allowed <= {"'self'", "'unsafe-inline'", "'none'", "data:"}
    assert "default-src 'self'" in DOCS_POLICY
    redirect = client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200
    assert redirect.headers["content-security-policy"] == DOCS_POLICY
    page = client.get("/")
    assert page.headers["content-security-policy"] == PAGE_POLICY


def test_openapi_schema_is_still_served_and_lists_the_api(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["info"]["title"] == "digitlab"
    assert sorted(schema["paths"]) == [
        "/api/examples",
        "/api/health",
        "/api/model",
        "/api/predict",
    ]


def test_redoc_is_switched_off(client):
    r = client.get("/redoc")
    assert r.status_code == 404
    assert r.json() == {"detail": "There is nothing at /redoc; the page is at /."}


def test_without_fastapi_offline_the_error_names_it_and_the_extra(monkeypatch):
    from digitlab.web import require_web

    monkeypatch.setitem(sys.modules, "fastapi_offline", None)
    with pytest.raises(digitlab.DigitlabError) as caught:
        require_web()
    assert str(caught.value) == (
        "The web page needs fastapi-offline, which is not installed; install the "
        'web extra with: pip install "digitlab[web]"'
    )


@pytest.mark.browser
@pytest.mark.slow
def test_docs_render_in_chromium_with_the_internet_blocked(browser, server):
    url, _ = server
    here = urlsplit(url).netloc
    blocked, loaded = [], []

    def only_this_server(route):
        if urlsplit(route.request.url).netloc == here:
            loaded.append(urlsplit(route.request.url).path)
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" else None,
    )
    page.route("**/*", only_this_server)
    page.goto(url + "/docs")
    operation = page.locator(".opblock-summary-path", has_text="/api/predict")
    operation.wait_for(state="visible", timeout=15_000)
    summary = operation.text_content()
    paths = page.locator(".opblock-summary-path").all_text_contents()
    # "Try it out" works under the policy too: GET /api/health from the page.
    health = page.locator(
        ".opblock", has=page.locator(".opblock-summary-path", has_text="/api/health")
    )
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()
    status = health.locator(".live-responses-table tbody .response-col_status")
    status.first.wait_for(timeout=15_000)
    answer = health.locator(".live-responses-table .highlight-code").first
    answered = (status.first.text_content(), answer.text_content())
    context.close()
    assert summary == "/api/predict"
    assert sorted(paths) == [
        "/api/examples",
        "/api/health",
        "/api/model",
        "/api/predict",
    ]
    assert answered[0] == "200"
    assert '"status": "ok"' in answered[1] and '"model_loaded": true' in answered[1]
    assert blocked == []
    assert errors == []
    assert {"/docs-assets/swagger-ui-bundle.js", "/openapi.json", "/api/health"} <= set(
        loaded
    )
