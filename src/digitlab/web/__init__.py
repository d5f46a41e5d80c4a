"""The web face of digitlab: a drawing page and a JSON API over the core.

Needs the ``web`` extra (``pip install "digitlab[web]"``): FastAPI and uvicorn are
imported only here and only when the web face is used, never by the core.
"""

from __future__ import annotations

from digitlab.errors import DigitlabError

__all__ = ["create_app", "require_web"]


def require_web() -> None:
    """Raise a clear :class:`DigitlabError` naming the extra if FastAPI is missing."""
    try:
        import fastapi  # noqa: F401
        import fastapi_offline  # noqa: F401  (Swagger UI for /docs, no CDN)
        import python_multipart  # noqa: F401  (for picture uploads)
        import uvicorn  # noqa: F401
    except ImportError as exc:
        name = {
            "python_multipart": "python-multipart",
            "fastapi_offline": "fastapi-offline",
        }.get(exc.name, exc.name)
        raise DigitlabError(
            f"The web page needs {name}, which is not installed; install the "
            'web extra with: pip install "digitlab[web]"'
        ) from None


def create_app(*args, **kwargs):
    """Build the FastAPI app; see :func:`digitlab.web.app.create_app`."""
    require_web()
    from digitlab.web.app import create_app as _create_app

    return _create_app(*args, **kwargs)
