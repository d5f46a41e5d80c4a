"""What the web API does, as plain functions over the core (no FastAPI here).

Pictures arrive as bytes (an upload) or as data URLs (a canvas); they are opened
with Pillow and handed to :func:`digitlab.prepare`, the same preparation
``digitlab predict`` uses. Every user mistake is a
:class:`~digitlab.errors.DigitlabError` with one sentence; the app turns it into
a 4xx.
"""

from __future__ import annotations

from digitlab.errors import DigitlabError
from digitlab.examples import check_label, save_example
from digitlab.explain import describe_model, explain
from digitlab.pictures import (
    MAX_PIXELS,
    PictureTooLarge,
    decode_data_url,
    open_picture,
)

__all__ = [
    "MAX_UPLOAD_BYTES",
    "MAX_PIXELS",
    "MalformedRequest",
    "PictureTooLarge",
    "UnsupportedContentType",
    "check_label",
    "decode_data_url",
    "describe_model",
    "explain",
    "open_picture",
    "save_example",
]

#: The largest request body the server reads (a phone photo fits; a film does not).
MAX_UPLOAD_BYTES = 8 * 2**20


class MalformedRequest(DigitlabError):
    """A body that is not valid JSON (HTTP 400)."""

    status_code = 400


class UnsupportedContentType(DigitlabError):
    """A content type the API does not read (HTTP 415)."""

    status_code = 415
