"""The FastAPI app: the drawing page, the JSON API and their error handling.

:func:`create_app` builds the app; the model is loaded once, in the app's
lifespan, and shared by every request (predictions only read it).
"""

from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from digitlab.errors import DigitlabError
from digitlab.examples import learn_examples, learner
from digitlab.web.pool import make_pictures
from digitlab.web.routes import _static_dir, api_router, page_router
from digitlab.web.service import MAX_UPLOAD_BYTES, describe_model

__all__ = ["create_app", "DEFAULT_EXAMPLES_DIR"]

#: Where "that was a ..." saves drawings unless told otherwise.
DEFAULT_EXAMPLES_DIR = "digitlab-examples"

#: Where /docs gets Swagger UI's script, style sheet and icon (from fastapi-offline).
DOCS_ASSETS_URL = "/docs-assets"

# The page never loads anything from elsewhere: this header makes sure of it.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)

# /docs is Swagger UI from this server: besides its files it needs the inline
# script FastAPI writes into the page to start it (built per request, hence
# 'unsafe-inline' rather than a hash) and data: images; still no other origin.
DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _can_learn(model) -> bool:
    try:
        learner(model)
    except DigitlabError:
        return False
    return True


def _with_examples(model, folder, *, copy: bool):
    """``model`` (a copy, if asked) with the examples already in ``folder``.

    A missing or empty folder is 0 examples: "that was a ..." creates it. A
    model that cannot learn examples (an SVC recipe) is served as it is.
    """
    if not _can_learn(model):
        return model
    if copy:
        import copy as copying

        # The app learns into its own model, never into the caller's.
        model = copying.deepcopy(model)
    learn_examples(model, folder, missing_ok=True)
    return model


_log = logging.getLogger("digitlab.web")


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413 before any parsing.

    The body is read (at most ``max_bytes``) and replayed to the app, so a
    declared ``Content-Length`` and a chunked body are limited alike.
    """

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send, size: str):
        limit_mib = self.max_bytes / 2**20
        body = json.dumps(
            {
                "detail": f"The request body is {size}, over the limit of "
                f"{limit_mib:g} MiB; send a smaller picture."
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, f"{int(declared):,} bytes")
            return
        chunks, total = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_bytes:
                await self._refuse(send, f"more than {self.max_bytes:,} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class PagePolicy:
    """Security headers; the page also gets a policy that forbids other origins.

    A plain ASGI middleware: it only adds headers to the response start, without
    the per-request cost of ``@app.middleware("http")``.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        page = path == "/" or path.startswith("/static/")
        docs = path == "/docs" or path.startswith("/docs/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                if page:
                    headers.append((b"content-security-policy", PAGE_POLICY.encode()))
                    headers.append((b"cache-control", b"no-cache"))
                elif docs:
                    headers.append((b"content-security-policy", DOCS_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _validation_sentence(exc: RequestValidationError) -> tuple[int, str]:
    """One sentence (and a status) for FastAPI's list of validation errors."""
    errors = exc.errors()
    if not errors:
        return 422, "The request is not valid; see /docs for what to send."
    first = errors[0]
    kind = first.get("type", "")
    where = [str(p) for p in first.get("loc", ()) if p != "body"]
    field = ".".join(where)
    if kind == "json_invalid":
        return 400, (
            "The request body is not valid JSON; send an object like "
            '{"image": "data:image/png;base64,...", "label": "7"}.'
        )
    if kind == "missing":
        if not field:
            return 422, "The request body is missing; see /docs for what to send."
        return 422, f"The field {field!r} is missing; see /docs for what to send."
    if kind == "extra_forbidden":
        return 422, f"The field {field!r} is not expected; see /docs for what to send."
    if kind in ("model_attributes_type", "dict_type"):
        return 422, (
            "The request body must be a JSON object like "
            '{"image": "data:image/png;base64,...", "label": "7"}.'
        )
    message = first.get("msg", "is not valid")
    return 422, f"The field {field or 'body'!r} is not valid: {message}."


def _internal_answer(request, exc: BaseException) -> JSONResponse:
    """The one answer for an error no other handler took.

    A client that goes away mid-body, or a body nested so deeply that a parser
    runs out of stack, is the client's doing: a 400 with its sentence. Anything
    else is a bug in digitlab: logged with its traceback for the server's
    owner, answered with a short 500 that shows the client nothing of it (no
    traceback, no paths).
    """
    from starlette.requests import ClientDisconnect

    if isinstance(exc, ClientDisconnect):
        return JSONResponse(
            {"detail": "The request body ended before it was complete; send it again."},
            status_code=400,
        )
    if isinstance(exc, RecursionError):
        return JSONResponse(
            {
                "detail": "The request is nested too deeply to read; send a flat JSON "
                'object like {"image": "data:image/png;base64,..."}.'
            },
            status_code=400,
        )
    _log.error(
        "Internal error answering %s %s",
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return JSONResponse(
        {
            "detail": "Something went wrong inside digitlab; the server's log has "
            "the details. Please report it."
        },
        status_code=500,
    )


def create_app(
    model=None,
    *,
    examples_dir=DEFAULT_EXAMPLES_DIR,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    workers: int = 1,
):
    """Build the digitlab web app.

    Parameters
    ----------
    model : fitted digitlab model, optional
        The model to answer with. ``None`` loads :func:`digitlab.default_model`
        when the app starts (once, in its lifespan).
    examples_dir : str or Path
        The user's examples: the folder "that was a ..." saves labelled
        drawings into, as ``<examples_dir>/<label>/<timestamp>.png`` (created on
        the first save). A k-nearest-neighbors model learns what it holds at
        the start and every example saved while it runs
        (:func:`digitlab.examples.teach`): the app learns into a copy of
        ``model``, which is left as it is.
    max_upload_bytes : int
        Request bodies larger than this are refused with 413.
    workers : int
        1: pictures are prepared in a worker thread of the server. More: in that
        many worker processes sharing one queue (started in the lifespan; see
        :mod:`digitlab.web.pool`).

    Returns
    -------
    fastapi.FastAPI

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> with TestClient(create_app()) as client:  # doctest: +SKIP
    ...     client.get("/api/health").json()["status"]
    'ok'
    """
    examples_dir = Path(examples_dir).expanduser().resolve()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if app.state.model is None:
            from digitlab.predict import default_model

            app.state.model = _with_examples(default_model(), examples_dir, copy=False)
            app.state.info = describe_model(app.state.model)
            app.state.learns = _can_learn(app.state.model)
        if app.state.pictures is None:
            app.state.pictures = make_pictures(app.state.model, app.state.info, workers)
        await app.state.pictures.start()
        try:
            yield
        finally:
            await app.state.pictures.close()

    from digitlab._version import __version__

    app = FastAPIOffline(
        docs_url="/docs",
        redoc_url=None,
        static_url=DOCS_ASSETS_URL,
        title="digitlab",
        version=__version__,
        summary="Draw a digit and watch a k-nearest-neighbors model decide.",
        description=(
            # Swagger UI shows this markdown at the top of /docs: the way back.
            "[← Back to the drawing page](/)\n\n"
            "The JSON API behind the drawing page. Every mistake is answered with "
            "a 4xx and one sentence in `detail`; an error inside digitlab is "
            "logged by the server and answered with a short 500."
        ),
        lifespan=lifespan,
    )
    app.state.examples_dir = examples_dir
    # A model given here is ready at once (also for clients that skip the lifespan).
    if model is not None:
        model = _with_examples(model, examples_dir, copy=True)
    app.state.model = model
    app.state.info = None if model is None else describe_model(model)
    app.state.learns = model is not None and _can_learn(model)
    app.state.pictures = None
    if model is not None and workers == 1:
        app.state.pictures = make_pictures(model, app.state.info)

    @app.exception_handler(DigitlabError)
    async def _user_error(request, exc):
        status = getattr(exc, "status_code", 422)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc):
        status, sentence = _validation_sentence(exc)
        return JSONResponse({"detail": sentence}, status_code=status)

    @app.exception_handler(Exception)
    async def _internal_error(request, exc):
        return _internal_answer(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request, exc):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is nothing at {request.url.path}; the page is at /."
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return JSONResponse(
            {"detail": detail}, status_code=exc.status_code, headers=exc.headers
        )

    app.include_router(api_router)
    app.include_router(page_router)
    app.mount("/static", StaticFiles(directory=_static_dir()), name="static")
    app.add_middleware(PagePolicy)
    app.add_middleware(BodyLimit, max_bytes=max_upload_bytes)
    return app
