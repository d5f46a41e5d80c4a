"""The routes: the page (``/``) and the JSON API (``/api/...``).

Each route reads its request, calls one function of
:mod:`digitlab.web.service` (which calls the core) and returns a schema.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from digitlab.errors import DigitlabError
from digitlab.explain import training_counts
from digitlab.web.schemas import (
    ErrorResponse,
    ExampleRequest,
    ExampleResponse,
    HealthResponse,
    ModelInfo,
    PictureRequest,
    Prediction,
)
from digitlab.web.service import (
    MalformedRequest,
    UnsupportedContentType,
    check_label,
    decode_data_url,
    open_picture,
)
from digitlab.web.service import save_example as save_example_file

__all__ = ["api_router", "page_router"]

api_router = APIRouter(prefix="/api", tags=["api"])
page_router = APIRouter(include_in_schema=False)

ERRORS = {
    400: {"model": ErrorResponse, "description": "The body is not valid JSON."},
    413: {"model": ErrorResponse, "description": "The body or picture is too large."},
    415: {"model": ErrorResponse, "description": "The content type is not accepted."},
    422: {
        "model": ErrorResponse,
        "description": "Not a picture, an empty picture, a picture without ink, "
        "a wrong label or a missing field.",
    },
}

_SEND_HOW = (
    "send the picture as multipart/form-data (a file field named 'file') or as "
    'JSON {"image": "data:image/png;base64,..."}'
)


def _body_schema(model) -> dict:
    """The JSON schema of a request model, inline (the route reads the body)."""
    return model.model_json_schema()


PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "description": "The picture: a file upload, or a data URL in JSON.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/json": {"schema": _body_schema(PictureRequest)},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _parse_json(raw: bytes, schema):
    try:
        obj = json.loads(raw)
    except RecursionError:
        raise MalformedRequest(
            "The request body is nested too deeply to read; send a flat JSON "
            'object like {"image": "data:image/png;base64,..."}.'
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise MalformedRequest(
            "The request body is not valid JSON; send an object like "
            '{"image": "data:image/png;base64,..."}.'
        ) from None
    if not isinstance(obj, dict):
        raise DigitlabError(
            "The request body must be a JSON object like "
            '{"image": "data:image/png;base64,..."}.'
        )
    try:
        return schema.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "body"
        if first["type"] == "missing":
            raise DigitlabError(
                f"The field {field!r} is missing; see /docs for what to send."
            ) from None
        if first["type"] == "extra_forbidden":
            raise DigitlabError(
                f"The field {field!r} is not expected; see /docs for what to send."
            ) from None
        if field == "label":
            raise DigitlabError(
                "The field 'label' is not valid: give the digit as a string like "
                '"7" or a whole number like 7.'
            ) from None
        raise DigitlabError(
            f"The field {field!r} is not valid: {first['msg']}."
        ) from None


async def _read_picture(request: Request) -> tuple[bytes, str]:
    """The picture bytes of a predict request and a name for them in messages."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    content_type = content_type.lower()
    if content_type == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=10)
        except HTTPException as exc:
            reason = str(exc.detail).rstrip(".").lower()
            raise MalformedRequest(
                f"The multipart form could not be read ({reason}); {_SEND_HOW}."
            ) from None
        try:
            uploads = [v for v in form.values() if isinstance(v, UploadFile)]
            if not uploads:
                raise DigitlabError("The form holds no file; " + _SEND_HOW + ".")
            upload = uploads[0]
            data = await upload.read()
            name = f"The file {upload.filename!r}" if upload.filename else "The upload"
        finally:
            await form.close()
        return data, name
    if content_type == "application/json" or content_type.endswith("+json"):
        body = _parse_json(await request.body(), PictureRequest)
        return decode_data_url(body.image), "The image in the data URL"
    if content_type.startswith("image/"):
        return await request.body(), "The request body"
    shown = content_type or "no content type"
    raise UnsupportedContentType(f"The request has {shown}; {_SEND_HOW}.")


@api_router.post(
    "/predict",
    response_model=Prediction,
    responses=ERRORS,
    openapi_extra=PREDICT_BODY,
    summary="Predict the digit in a picture",
)
async def predict(request: Request) -> Prediction:
    """Prepare the picture the way the training digits were, and predict it.

    Answers the predicted digit, the vote share of every label, the model input
    the picture became and the nearest training digits. Pictures may be
    PNG, JPEG, BMP, GIF or WebP, with dark ink on light paper or light ink on
    dark, or a transparent canvas.
    """
    data, name = await _read_picture(request)
    # Decoding, preparing and ranking: CPU work, done where the app's pictures
    # go (a worker thread, or worker processes with --workers), which also
    # write the answer's Prediction JSON.
    body = await request.app.state.pictures.predict(data, name)
    return Response(body, media_type="application/json")


@api_router.get("/model", response_model=ModelInfo, summary="The model in use")
def model_info(request: Request) -> ModelInfo:
    """What the model is: its data, recipe, k, and accuracy on its test split."""
    info = dict(request.app.state.info)
    info.pop("input_max", None)
    return ModelInfo(**info)


@api_router.post(
    "/examples",
    response_model=ExampleResponse,
    status_code=201,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _body_schema(ExampleRequest)}},
        }
    },
    summary="Teach the model a drawing with its true label",
)
async def save_example(request: Request) -> ExampleResponse:
    """Keep a drawing as ``<examples>/<label>/<timestamp>.png``, never
    overwriting, and learn it: the next prediction uses it.

    A k-nearest-neighbors model learns the drawing at once (prepared exactly as
    its training digits, added as training rows with a few slightly slanted
    copies; every worker process learns it too); ``n_examples`` says how many
    of the user's examples it holds now. Other models only save it. A picture
    without ink is refused, like in predict.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type.lower() != "application/json":
        shown = content_type or "no content type"
        raise UnsupportedContentType(
            f"The request has {shown}; send JSON "
            '{"image": "data:image/png;base64,...", "label": "7"}.'
        )
    body = _parse_json(await request.body(), ExampleRequest)
    app = request.app
    data, name = decode_data_url(body.image), "The image in the data URL"
    picture = await run_in_threadpool(open_picture, data, name=name)
    if app.state.learns:
        # Checks the label, then the ink (no ink, no example), saves, learns.
        taught = await app.state.pictures.teach(
            picture, body.label, app.state.examples_dir
        )
        # Counted from the model itself (two teaches may finish in any order).
        app.state.info = {**app.state.info, **training_counts(app.state.model)}
        return ExampleResponse(**taught, learned=True)
    check_label(body.label, app.state.model.classes_)
    # The same check as predict: no ink, no example.
    await app.state.pictures.predict(data, name)
    saved = await run_in_threadpool(
        save_example_file,
        app.state.examples_dir,
        body.label,
        picture,
        app.state.model.classes_,
    )
    info = app.state.info
    return ExampleResponse(
        **saved, learned=False, n_examples=info["n_examples"], n_train=info["n_train"]
    )


@api_router.get("/health", response_model=HealthResponse, summary="Is it up?")
def health(request: Request) -> HealthResponse:
    """``ok`` once the model is loaded."""
    from digitlab._version import __version__

    loaded = getattr(request.app.state, "model", None) is not None
    return HealthResponse(
        status="ok" if loaded else "starting", version=__version__, model_loaded=loaded
    )


def _static_dir() -> Path:
    """The folder of the page's files (index.html, script, styles), in the package."""
    return Path(str(resources.files("digitlab.web") / "static"))


@page_router.get("/")
def page(request: Request):
    """The drawing page."""
    return FileResponse(_static_dir() / "index.html", media_type="text/html")


@page_router.get("/static/canvas.js")
def canvas_script():
    """The drawing canvas the page shares with the notebook pad (its file lives
    beside the pad's, in the package's static folder)."""
    path = Path(str(resources.files("digitlab") / "static" / "canvas.js"))
    return FileResponse(path, media_type="text/javascript")
