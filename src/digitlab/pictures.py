"""Pictures as they arrive from people: bytes of a file, or a canvas's data URL.

:func:`open_picture` decodes bytes with Pillow, fully and size-checked (a guard
against decompression bombs); :func:`decode_data_url` reads what a canvas's
``toDataURL()`` gives. The web page and the notebook's drawing pad both use
them, so a picture is refused with the same sentence wherever it comes from.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings

from digitlab.errors import DigitlabError

__all__ = [
    "FORMATS",
    "MAX_PIXELS",
    "PictureTooLarge",
    "decode_data_url",
    "open_picture",
]

#: The largest picture (width × height) decoded: a guard against decompression bombs.
MAX_PIXELS = 40_000_000
FORMATS = "PNG, JPEG, BMP, GIF or WebP"
_DATA_URL = re.compile(
    r"^data:(?P<type>[^;,]*)(?P<params>(;[^;,]*)*),(?P<data>.*)$", re.S
)


class PictureTooLarge(DigitlabError):
    """A picture or request body over the size limit (HTTP 413)."""

    status_code = 413


def decode_data_url(url: str) -> bytes:
    """The bytes inside a ``data:image/...;base64,...`` URL.

    Raises
    ------
    DigitlabError
        When ``url`` is not a base64 data URL or holds nothing.
    """
    if not isinstance(url, str):
        raise DigitlabError(
            "The image must be a data URL string like data:image/png;base64,...; "
            f"got {type(url).__name__}."
        )
    match = _DATA_URL.match(url.strip())
    if match is None:
        raise DigitlabError(
            "The image is not a data URL; send it as data:image/png;base64,... "
            "(what a canvas's toDataURL() gives)."
        )
    if ";base64" not in match["params"]:
        raise DigitlabError(
            "The image data URL is not base64-encoded; send it as "
            "data:image/png;base64,... (what a canvas's toDataURL() gives)."
        )
    payload = match["data"]
    if not payload.isascii() or any(c in payload for c in " \t\n\r\f\v"):
        payload = re.sub(r"\s+", "", payload)  # rare: spaces or line breaks inside
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise DigitlabError(
            "The image data URL holds invalid base64; send the picture again "
            "exactly as toDataURL() gives it."
        ) from None
    if not data:
        raise DigitlabError(
            "The picture is empty (0 bytes); draw a digit or choose a picture file."
        )
    return data


def open_picture(data: bytes, *, name: str = "The upload"):
    """Open picture bytes with Pillow, fully decoded and size-checked.

    Raises
    ------
    DigitlabError
        Empty bytes, bytes that are not a picture, a damaged picture.
    PictureTooLarge
        A picture of more than :data:`MAX_PIXELS` pixels.
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise DigitlabError(
            f"{name} is empty (0 bytes); draw a digit or choose a picture file."
        )
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise DigitlabError(
            f"{name} is not a picture; send a {FORMATS} file."
        ) from None
    except Image.DecompressionBombError:
        raise PictureTooLarge(
            f"{name} is too large to decode safely; send a picture of at most "
            f"{MAX_PIXELS:,} pixels."
        ) from None
    except Exception:  # Pillow's own errors on odd headers (a huge text chunk...)
        raise DigitlabError(_damaged(name)) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise PictureTooLarge(
            f"{name} is {width}×{height} pixels, more than the limit of "
            f"{MAX_PIXELS:,}; send a smaller picture."
        )
    if width == 0 or height == 0:
        raise DigitlabError(f"{name} is {width}×{height} pixels; it shows nothing.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PictureTooLarge(
            f"{name} is too large to decode safely; send a picture of at most "
            f"{MAX_PIXELS:,} pixels."
        ) from None
    except MemoryError:
        raise PictureTooLarge(
            f"{name} is too large to decode; send a picture of at most "
            f"{MAX_PIXELS:,} pixels."
        ) from None
    except Exception:  # Pillow raises many kinds for a damaged picture
        raise DigitlabError(_damaged(name)) from None
    return image


def _damaged(name: str) -> str:
    return (
        f"{name} is a damaged or truncated picture (or one Pillow cannot decode); "
        f"save it again as {FORMATS} and resend it."
    )
