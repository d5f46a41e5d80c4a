"""Property test of the JSON API against its own OpenAPI schema: never a 5xx.

Schemathesis generates requests from ``/openapi.json`` (valid ones and ones that
break the schema) and sends them to the app; every answer must be below 500 and
every 4xx must carry one ``detail`` sentence. A bounded number of examples per
operation keeps it fast.
"""

from __future__ import annotations

import tempfile

import pytest

import digitlab

pytest.importorskip("fastapi", reason="the web extra is not installed")
schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is missing")
from hypothesis import HealthCheck, settings  # noqa: E402

from digitlab.web import create_app  # noqa: E402

EXAMPLES = tempfile.TemporaryDirectory(prefix="digitlab-schema-examples-")
schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    create_app(digitlab.default_model(), examples_dir=EXAMPLES.name),
)


@pytest.fixture(scope="module", autouse=True)
def _remove_saved_examples():
    yield
    EXAMPLES.cleanup()


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case):
    response = case.call()
    assert response.status_code < 500, (case.path, response.text)
    if response.status_code >= 400:
        detail = response.json()["detail"]
        assert isinstance(detail, str) and detail.endswith("."), detail
