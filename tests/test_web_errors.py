"""The web API never answers 500 to anything a client sends (issue 18).

Real requests to the real app (TestClient inside ``with``): odd pictures Pillow
raises its own errors on, JSON nested hundreds of thousands of levels deep, the
documented examples sent as they are, labels with spaces, and generated bodies
(hypothesis) of every shape. A client's mistake is a 4xx with one sentence; a
bug inside digitlab is logged and answered with a short 500 that shows nothing.
"""

from __future__ import annotations

import io
import json
import logging
import struct
import zlib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

pytest.importorskip("fastapi", reason="the web extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from digitlab.web import create_app  # noqa: E402
from digitlab.web.schemas import DATA_URL_EXAMPLE  # noqa: E402


def one_sentence(response, status: int) -> str:
    """The answer's ``detail``, after checking the status and that it is one
    sentence with nothing of a traceback in it."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail.endswith("."), detail
    assert "\n" not in detail and "Traceback" not in detail
    assert "/work/" not in detail and ".py" not in detail
    return detail


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def drawn_seven() -> bytes:
    picture = Image.new("L", (60, 60), 255)
    ImageDraw.Draw(picture).line([(10, 10), (50, 10), (25, 55)], fill=0, width=6)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def with_chunk_before_pixels(png: bytes, chunk: bytes) -> bytes:
    at = png.index(b"IDAT") - 4
    return png[:at] + chunk + png[at:]


# A compressed text chunk that unpacks to 5 MiB: Pillow raises ValueError
# ("Decompressed data too large") while reading the header.
HUGE_TEXT = png_chunk(b"zTXt", b"note\x00\x00" + zlib.compress(b"x" * (5 * 2**20)))
HUGE_INTERNATIONAL_TEXT = png_chunk(
    b"iTXt", b"note\x00\x01\x00\x00\x00" + zlib.compress(b"x" * (5 * 2**20))
)


@pytest.mark.parametrize(
    "chunk", [HUGE_TEXT, HUGE_INTERNATIONAL_TEXT], ids=["zTXt", "iTXt"]
)
def test_a_png_with_a_huge_text_chunk_is_a_422_sentence(client, chunk):
    picture = with_chunk_before_pixels(drawn_seven(), chunk)
    for kwargs in (
        {"files": {"file": ("odd.png", picture, "image/png")}},
        {"content": picture, "headers": {"Content-Type": "image/png"}},
    ):
        detail = one_sentence(client.post("/api/predict", **kwargs), 422)
        assert "damaged or truncated picture" in detail


def test_the_same_picture_in_the_cli_is_one_error_line(tmp_path):
    from click.testing import CliRunner

    from digitlab.cli import main

    path = tmp_path / "odd.png"
    path.write_bytes(with_chunk_before_pixels(drawn_seven(), HUGE_TEXT))
    result = CliRunner().invoke(main, ["predict", str(path), "--no-record"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: {path} could not be read as a picture (Decompressed data too "
        "large for PngImagePlugin.MAX_TEXT_CHUNK); it may be truncated or damaged: "
        "save it again as PNG, JPEG, BMP, GIF or WebP."
    ]


@pytest.mark.parametrize("route", ["/api/predict", "/api/examples"])
@pytest.mark.parametrize(
    "body",
    [
        "[" * 300_000 + "]" * 300_000,
        '{"image": ' + "[" * 200_000 + "]" * 200_000 + "}",
        '{"label": ' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}",
    ],
    ids=["list", "image", "label"],
)
def test_json_nested_hundreds_of_thousands_deep_is_a_400(client, route, body):
    response = client.post(
        route, content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert "nested too deeply" in one_sentence(response, 400)


def test_an_error_inside_digitlab_is_logged_and_answered_with_a_short_500(
    model, examples, caplog
):
    # A real app whose picture work fails with a bug (not a user mistake): the
    # client sees a short sentence, the server's log the whole traceback.
    app = create_app(model, examples_dir=examples)
    with TestClient(app, raise_server_exceptions=False) as client:

        class Broken:
            async def predict(self, data, name):
                raise KeyError("secret /srv/digitlab/internal.py detail")

            async def close(self):
                pass

        app.state.pictures = Broken()
        with caplog.at_level(logging.ERROR, logger="digitlab.web"):
            response = client.post(
                "/api/predict",
                content=drawn_seven(),
                headers={"Content-Type": "image/png"},
            )
    detail = one_sentence(response, 500)
    assert detail == (
        "Something went wrong inside digitlab; the server's log has the details. "
        "Please report it."
    )
    assert "secret" not in response.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Internal error answering POST /api/predict" in logged
    assert any(
        r.exc_info and "secret /srv" in str(r.exc_info[1]) for r in caplog.records
    )


# ---- the documented examples are requests the API accepts --------------------


def _documented_bodies(openapi: dict):
    """(path, body) for every JSON request body /openapi.json documents, built
    from the first example of each of its properties."""
    for path, operations in openapi["paths"].items():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue
            body = {}
            for name, prop in schema["properties"].items():
                examples = prop.get("examples")
                assert examples, f"{path}: the field {name!r} has no example"
                body[name] = examples[0]
            yield path, body


def test_every_documented_example_is_accepted_with_a_2xx(client, examples):
    openapi = client.get("/openapi.json").json()
    bodies = list(_documented_bodies(openapi))
    assert sorted(path for path, _ in bodies) == ["/api/examples", "/api/predict"]
    for path, body in bodies:
        response = client.post(path, json=body)
        assert 200 <= response.status_code < 300, (path, response.text)
    # The example picture is a 7, and the model reads it as one.
    answer = client.post("/api/predict", json={"image": DATA_URL_EXAMPLE}).json()
    assert answer["digit"] == "7"
    assert [p.name for p in (examples / "7").iterdir()][0].endswith(".png")


def test_labels_with_spaces_are_saved_without_them_and_the_docs_say_so(
    client, examples
):
    for label in (" 7 ", "\t7\n", "7"):
        response = client.post(
            "/api/examples", json={"image": DATA_URL_EXAMPLE, "label": label}
        )
        assert response.status_code == 201, response.text
        assert response.json()["label"] == "7"
    assert len(list((examples / "7").glob("*.png"))) == 3
    assert sorted(p.name for p in examples.iterdir()) == ["7"]
    operation = client.get("/openapi.json").json()["paths"]["/api/examples"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    description = schema["properties"]["label"]["description"]
    assert 'Spaces around it are removed ("  7 " is saved as "7")' in description
    # Spaces inside, or only spaces, are not a label.
    for label in ("7 7", "   ", ""):
        response = client.post(
            "/api/examples", json={"image": DATA_URL_EXAMPLE, "label": label}
        )
        assert "is not one of the model's labels" in one_sentence(response, 422)
    assert len(list((examples / "7").glob("*.png"))) == 3


# ---- generated bodies: 4xx or 2xx, never 5xx ----------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
DATA_URLS = st.builds(
    lambda kind, params, payload: f"data:{kind}{params},{payload}",
    st.sampled_from(["image/png", "image/jpeg", "text/plain", "", "image/gif"]),
    st.sampled_from([";base64", "", ";charset=utf-8;base64", ";base64;x"]),
    st.sampled_from(["", "iVBORw0KGgo", "@@@", "AAAA", "iVBORw0KGgoAAAANSUhEUg=="])
    | st.binary(max_size=60).map(lambda b: __import__("base64").b64encode(b).decode()),
)
OBJECTS = st.fixed_dictionaries(
    {},
    optional={
        "image": DATA_URLS | JSON_VALUES,
        "label": st.sampled_from(["7", " 7 ", "x", "../7", "", 7, -1, True, None])
        | JSON_VALUES,
        "extra": JSON_VALUES,
    },
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=latin-1",
        "application/problem+json",
        "image/png",
        "image/x-anything",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "text/plain",
        "",
        "APPLICATION/JSON",
    ]
)
BODIES = st.one_of(
    OBJECTS.map(lambda o: json.dumps(o).encode()),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.sampled_from(
        [
            drawn_seven(),
            drawn_seven()[:100],
            b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
            with_chunk_before_pixels(drawn_seven(), HUGE_TEXT),
            b'{"image": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        ]
    ),
)


@pytest.fixture(scope="module")
def shared_client(model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated-examples")
    with TestClient(create_app(model, examples_dir=folder)) as client:
        yield client, folder


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    route=st.sampled_from(["/api/predict", "/api/examples"]),
    content_type=CONTENT_TYPES,
    body=BODIES,
)
@example(
    route="/api/predict",
    content_type="image/png",
    body=with_chunk_before_pixels(drawn_seven(), HUGE_TEXT),
)
@example(
    route="/api/examples",
    content_type="application/json",
    body=b'{"image": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
)
def test_generated_bodies_are_answered_4xx_or_2xx(
    shared_client, route, content_type, body
):
    client, folder = shared_client
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(route, content=body, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        one_sentence(response, response.status_code)
    # Whatever was sent, nothing was written outside the examples folder.
    for saved in folder.rglob("*"):
        assert saved.resolve().is_relative_to(folder.resolve())


def test_a_cmyk_jpeg_is_saved_as_an_example(client, examples):
    # Before: PNG cannot hold CMYK, so saving it was a 500.
    picture = Image.open(io.BytesIO(drawn_seven())).convert("CMYK")
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG")
    url = (
        "data:image/jpeg;base64,"
        + __import__("base64").b64encode(buffer.getvalue()).decode()
    )
    response = client.post("/api/examples", json={"image": url, "label": "7"})
    assert response.status_code == 201, response.text
    (saved,) = (examples / "7").glob("*.png")
    with Image.open(saved) as kept:
        assert kept.mode == "RGB"
