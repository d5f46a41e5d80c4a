"""Pictures to model input: the same preparation for training and user pictures.

A model trained on 8×8 digits only understands a picture prepared exactly the way
its training digits were. Each kind of training data has one named *pipeline*,
stored in the model file (``KNN(pipeline=...)``) and applied to every picture the
model is asked about:

``uci8x8``
    scikit-learn's built-in digits. They come from the UCI optdigits
    preprocessing of NIST forms: the writer's digit as a 32×32 normalized bitmap,
    divided into 4×4 blocks, each block's count of ink pixels (0..16) one
    feature. The statistics of the 1,797 digits show how those bitmaps were
    normalized, and :func:`prepare` reproduces it:

    * every digit fills the full height (all 1,797 have ink in rows 0 and 7);
    * it is at most about 20 of the 32 pixels wide, centered (column 0 is
      empty in 99.9 % of the digits, ink starts in column 1 and ends in column
      6), narrow digits such as a 1 keep their aspect ratio;
    * the stroke width is normalized so that every digit has about the same
      number of ink pixels: 312 of 1,024 on average (standard deviation 34),
      whatever the digit (a 1 has 311, an 8 has 330).

``upright8x8``
    ``uci8x8`` of the digit sheared upright: its slant (the lean its ink's
    second moments measure) is removed before the bitmap is made. A picture
    is straightened at its own resolution; a training digit, known only as 8×8
    counts, is drawn again large from them and straightened
    (:func:`straighten`). Writers slant their digits by different amounts; a
    model whose training digits and pictures are both upright compares
    shapes, not slants. The default model's preparation.

``mnist28``
    MNIST-style data: the digit's box scaled to fit 20×20 keeping its aspect
    ratio, centered by its center of mass in a 28×28 picture, gray levels 0..255.

Ink is found on any background: dark ink on light paper, light chalk on a dark
board, colored ink, or a transparent canvas (alpha). JPEG speckle, specks of
dirt and the rules of ruled or squared paper are removed before the digit's
box is measured.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from digitlab.errors import DigitlabError, os_errors
from digitlab.files import regular_file

__all__ = [
    "BlankPicture",
    "PIPELINES",
    "from_counts",
    "MAX_PIXELS",
    "PICTURE_SUFFIXES",
    "prepare",
    "prepare_many",
    "pipeline_shape",
    "load_ink",
    "render_digit",
    "slant",
    "straighten",
    "training_bitmap",
]

#: Pictures with more pixels than this are refused (decompression-bomb guard).
MAX_PIXELS = 40_000_000

#: File name endings ``digitlab predict`` looks for inside folders.
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")

_MAX_FILE_BYTES = 256 * 1024 * 1024

# Pictures larger than this (longest side) are shrunk before ink detection: a
# digit needs far fewer pixels, and it keeps preparation fast on phone photos.
_WORK_SIDE = 512

# uci8x8: the 32×32 bitmap, the digit's box inside it and its ink content.
_UCI_SIDE = 32
_UCI_BOX_HEIGHT = 32
_UCI_BOX_WIDTH = 20
_UCI_TARGET_INK = 312
_UCI_SCALE = 2  # drawn at 64×64, then each 2×2 cell becomes one bitmap pixel


class BlankPicture(DigitlabError):
    """A picture with no ink on it: nothing on it differs from the paper."""


@dataclass(frozen=True)
class _Pipeline:
    name: str
    shape: tuple[int, int]
    description: str


PIPELINES = {
    "uci8x8": _Pipeline(
        "uci8x8",
        (8, 8),
        "UCI optdigits: 32×32 normalized bitmap, 4×4 block ink counts 0..16",
    ),
    "upright8x8": _Pipeline(
        "upright8x8",
        (8, 8),
        "uci8x8 of the digit sheared upright: its slant removed first",
    ),
    "mnist28": _Pipeline(
        "mnist28",
        (28, 28),
        "MNIST: 20×20 box keeping aspect, centered by mass in 28×28, 0..255",
    ),
}


def pipeline_shape(pipeline: str) -> tuple[int, int]:
    """The picture shape of a pipeline's output, e.g. ``(8, 8)`` for ``uci8x8``."""
    return _check_pipeline(pipeline).shape


def _check_pipeline(pipeline) -> _Pipeline:
    try:
        return PIPELINES[pipeline]
    except (KeyError, TypeError):
        names = ", ".join(repr(n) for n in PIPELINES)
        raise DigitlabError(
            f"Unknown picture preparation {pipeline!r}; use one of {names}."
        ) from None


# ---------------------------------------------------------------------------
# Reading pictures


def _name(picture) -> str:
    if isinstance(picture, (str, os.PathLike)):
        return str(picture)
    return "the picture"


def _open_image(picture):
    """A fully loaded PIL image from a path, bytes or a PIL image."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(picture, Image.Image):
        _check_pixels(picture.size[0] * picture.size[1], _name(picture))
        return picture
    if isinstance(picture, (bytes, bytearray)):
        source, name = io.BytesIO(picture), "the picture"
        if len(picture) == 0:
            raise DigitlabError("The picture is empty (0 bytes); send a picture file.")
    else:
        path = Path(picture)
        name = str(picture)
        if not path.exists():
            raise DigitlabError(f"{name}: no such file; check the path.")
        if path.is_dir():
            raise DigitlabError(f"{name} is a folder, not a picture file.")
        regular_file(path, "picture file")
        with os_errors(path):
            size = path.stat().st_size
            if size > _MAX_FILE_BYTES:
                raise DigitlabError(_too_big(name))
            # Read the bytes and close the file at once: nothing stays open, even
            # when decoding fails half way.
            source = io.BytesIO(path.read_bytes())
        if not source.getbuffer().nbytes:
            raise DigitlabError(
                f"{name} is an empty file (0 bytes); give a PNG, JPEG, BMP, GIF "
                "or WebP picture."
            )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(source)
            _check_pixels(image.size[0] * image.size[1], name)
            image.load()
        except DigitlabError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise DigitlabError(_too_big(name)) from None
        except UnidentifiedImageError:
            raise DigitlabError(
                f"{name} is not a picture Pillow can read; give a PNG, JPEG, BMP, "
                "GIF or WebP file."
            ) from None
        except MemoryError:
            raise DigitlabError(_too_big(name)) from None
        except Exception as exc:  # Pillow raises many kinds for a bad picture
            raise DigitlabError(picture_error_sentence(exc, name)) from None
    return image


def picture_error_sentence(exc: BaseException, name: str) -> str:
    """The sentence for any error Pillow raised while decoding a user's picture."""
    reason = (str(exc).strip().rstrip(".") or type(exc).__name__)[:200]
    return (
        f"{name} could not be read as a picture ({reason}); it may be truncated "
        "or damaged: save it again as PNG, JPEG, BMP, GIF or WebP."
    )


def _too_big(name: str) -> str:
    return (
        f"{name} is too large (over {MAX_PIXELS:,} pixels) to be a picture of "
        "one digit; crop or shrink it first."
    )


def _check_pixels(n_pixels: int, name: str) -> None:
    if n_pixels > MAX_PIXELS:
        raise DigitlabError(_too_big(name))


def _first_frame_at_work_size(image):
    """The first frame of ``image``, shrunk (box filter) to fit the working size."""
    from PIL import Image

    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    if max(image.size) > _WORK_SIDE:
        image = image.copy()
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA")
        image.thumbnail((_WORK_SIDE, _WORK_SIDE), Image.Resampling.BOX)
    return image


def _has_alpha(image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _image_to_array(image) -> tuple[np.ndarray, np.ndarray | None]:
    """RGB floats in 0..1 of shape (h, w, 3), and alpha in 0..1 or None."""
    image = _first_frame_at_work_size(image)
    has_alpha = _has_alpha(image)
    if image.mode == "I;16" or image.mode == "I":
        a = np.asarray(image, dtype=np.float64)
        top = max(a.max(), 1.0)
        return np.repeat((a / top)[..., None], 3, axis=2), None
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float64) / 255.0
    alpha = rgba[..., 3] if has_alpha else None
    return rgba[..., :3], alpha


def _image_to_levels(image):
    """RGB levels 0..255 (h, w, 3) uint8 and alpha levels or None, or None.

    The fast path of :func:`load_ink` for 8-bit pictures (every picture the web
    page sends): the same numbers as :func:`_image_to_array` without turning
    the whole picture into floats. None for 16/32-bit pictures.
    """
    image = _first_frame_at_work_size(image)
    if image.mode in ("I;16", "I"):
        return None
    has_alpha = _has_alpha(image)
    if image.mode in ("RGB", "RGBA"):
        # The levels as they are: what convert("RGBA") would copy, uncopied.
        levels = np.asarray(image)
        return levels[..., :3], (levels[..., 3] if has_alpha else None)
    rgba = np.asarray(image.convert("RGBA"))
    return rgba[..., :3], (rgba[..., 3] if has_alpha else None)


# k / 255 for every 8-bit level k, computed as _image_to_array computes it.
_LEVELS = np.arange(256, dtype=np.float64) / 255.0


def _ink_of_levels(rgb: np.ndarray, alpha: np.ndarray | None, with_ink=True):
    """:func:`load_ink` of 8-bit levels: bit for bit what the float path gives.

    Each pixel's difference from the paper only depends on its level, so it is
    looked up in a 256-entry table per channel instead of computed per pixel,
    and the paper's color (the border's median) is read from level counts.

    Returns
    -------
    ink : ndarray of shape (h, w)
        None when ``with_ink`` is false and ``plane`` and ``table`` are given.
    plane, table : ndarray or None
        When the ink is one table lookup, ``ink == table[plane]`` (a transparent
        canvas, or a gray picture); else None and None.
    """
    if alpha is not None:
        lo, hi = int(alpha.min()), int(alpha.max())
        if _LEVELS[lo] < 0.5 and _LEVELS[hi] > 0.5:
            return (np.take(_LEVELS, alpha) if with_ink else None), alpha, _LEVELS
    plane = rgb[..., 0]
    if np.array_equal(plane, rgb[..., 1]) and np.array_equal(plane, rgb[..., 2]):
        # A gray picture: the three channels' tables are one.
        table = np.abs(_LEVELS - _median_level(_border_pixels(plane)))
        return (np.take(table, plane) if with_ink else None), plane, table
    border = _border_pixels(rgb)
    tables = [np.abs(_LEVELS - _median_level(border[:, c])) for c in range(3)]
    ink = np.maximum(
        np.maximum(tables[0][plane], tables[1][rgb[..., 1]]), tables[2][rgb[..., 2]]
    )
    return ink, None, None


def _median_level(levels: np.ndarray) -> float:
    """``np.median(_LEVELS[levels])`` of 8-bit levels, exactly, from their counts."""
    ends = np.cumsum(np.bincount(levels, minlength=256))
    n = int(ends[-1])
    middle = _LEVELS[np.searchsorted(ends, [(n - 1) // 2, n // 2], side="right")]
    # np.median averages the two middle values (the one middle value for odd n).
    return float(np.mean(middle[1:] if n % 2 else middle))


def _percentile_of_counts(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """``np.percentile(np.repeat(values, counts), q)``, without the repeat.

    numpy's default ("linear") method: the virtual index ``(n - 1) q / 100``
    between two order statistics, which are found in the cumulative counts;
    the interpolation is numpy's own two-sided formula, so the result is the
    same to the last bit (tests compare the two).
    """
    order = np.argsort(values, kind="stable")
    ends = np.cumsum(counts[order])
    n = int(ends[-1])
    virtual = (n - 1) * (q / 100)
    below = min(int(np.floor(virtual)), n - 1)
    above = min(below + 1, n - 1)
    a, b = values[order][np.searchsorted(ends, [below, above], side="right")]
    gamma = virtual - below
    diff = b - a
    return float(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma)


def _array_to_rgb(a: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    a = np.asarray(a)
    if a.dtype == bool:
        a = a.astype(np.float64)
    if not np.issubdtype(a.dtype, np.number):
        raise DigitlabError(
            f"{name} is an array of {a.dtype}; give numbers (gray levels or RGB)."
        )
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise DigitlabError(
            f"{name} has shape {a.shape}; give a picture of shape (height, width), "
            "(height, width, 3) or (height, width, 4)."
        )
    if a.size == 0 or min(a.shape[:2]) < 1:
        raise DigitlabError(f"{name} is an empty array; give a picture.")
    _check_pixels(a.shape[0] * a.shape[1], name)
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise DigitlabError(f"{name} contains NaN or inf; give finite gray levels.")
    # Floats in 0..1 are read as such; anything larger as 0..255 (or 16-bit).
    top = a.max()
    scale = 1.0 if top <= 1.0 else (255.0 if top <= 255.0 else 65535.0)
    a = np.clip(a / scale, 0.0, 1.0)
    if a.ndim == 2:
        return np.repeat(a[..., None], 3, axis=2), None
    alpha = a[..., 3] if a.shape[2] == 4 else None
    return a[..., :3], alpha


# np.histogram's edges for 256 bins over 0..1, and the bins' centers.
_OTSU_EDGES = np.linspace(0.0, 1.0, 257)
_OTSU_CENTERS = (_OTSU_EDGES[:-1] + _OTSU_EDGES[1:]) / 2


def _otsu(values: np.ndarray, counts: np.ndarray | None = None) -> float:
    """Otsu's threshold of values in 0..1 (256 bins), each ``counts`` times."""
    if counts is None:
        hist = np.histogram(values, bins=256, range=(0.0, 1.0))[0].astype(np.float64)
    else:
        # The few weighted values of a level table: numpy's bins (edges[i] <=
        # v < edges[i + 1], the last one closed) by search, without np.histogram's
        # setup, which costs more than the counting here.
        bins = np.minimum(np.searchsorted(_OTSU_EDGES, values, side="right") - 1, 255)
        hist = np.bincount(bins, weights=counts, minlength=256)
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * _OTSU_CENTERS)
    mean0 = np.divide(m0, w0, out=np.zeros_like(m0), where=w0 > 0)
    mean1 = np.divide(m0[-1] - m0, w1, out=np.zeros_like(m0), where=w1 > 0)
    between = w0 * w1 * (mean0 - mean1) ** 2
    return float(_OTSU_EDGES[int(np.argmax(between)) + 1])


def load_ink(picture) -> np.ndarray:
    """How much ink each pixel holds, 0 (paper) to 1 (ink), for any background.

    Parameters
    ----------
    picture : str, Path, bytes, PIL.Image.Image or ndarray
        A picture file, its bytes, a PIL image, or an array of gray levels
        (h, w) or colors (h, w, 3|4), floats in 0..1 or integers in 0..255.

    Returns
    -------
    ndarray of shape (h, w)
        The ink map. With a transparent canvas (an alpha channel that is not
        fully opaque) ink is what was painted; otherwise ink is whatever differs
        from the paper, whose color is read from the picture's border, so dark
        ink on light paper and light chalk on a dark board both work.
    """
    name = _name(picture)
    if isinstance(picture, np.ndarray):
        rgb, alpha = _array_to_rgb(picture, name)
    else:
        image = _open_image(picture)
        levels = _image_to_levels(image)
        if levels is not None:
            return _ink_of_levels(*levels)[0]
        rgb, alpha = _image_to_array(image)
    if alpha is not None and alpha.min() < 0.5 and alpha.max() > 0.5:
        # A transparent canvas: paint is where the canvas is covered. Paint of
        # the same color as an opaque paper region does not count as ink.
        ink = alpha.copy()
    else:
        ink = _contrast(rgb)
    return ink


def _border_pixels(a: np.ndarray) -> np.ndarray:
    """The pixels of a band 1/20 of the picture wide along its edges: the paper.

    ``a`` is (h, w) or (h, w, channels); the pixels come as rows of channels
    (or flat, for one plane).
    """
    h, w = a.shape[:2]
    band = max(1, min(h, w) // 20)
    tail = a.shape[2:]
    return np.concatenate(
        [
            a[:band].reshape(-1, *tail),
            a[-band:].reshape(-1, *tail),
            a[:, :band].reshape(-1, *tail),
            a[:, -band:].reshape(-1, *tail),
        ]
    )


def _contrast(rgb: np.ndarray) -> np.ndarray:
    """Difference from the paper color (the median of the border), 0..1."""
    border = _border_pixels(rgb)
    # Per channel and an explicit maximum: the same numbers as
    # np.median(border, axis=0) and .max(axis=2), 3× faster (reductions over a
    # length-3 last axis are slow in numpy); every picture the web page gets
    # passes here.
    paper = np.array([np.median(border[:, c]) for c in range(3)])
    diff = np.abs(rgb - paper)
    return np.maximum(np.maximum(diff[..., 0], diff[..., 1]), diff[..., 2])


# Pixels touching at an edge or a corner are one component.
_EIGHT_NEIGHBORS = np.ones((3, 3))


def _ink_mask(ink, name: str, plane=None, table=None) -> np.ndarray:
    """The digit's ink pixels: thresholded, speckle and specks removed.

    With ``ink == table[plane]`` (see :func:`_ink_of_levels`) the threshold is
    found from the 256 table entries, each counted as often as it occurs, and
    the mask is looked up per level (``ink`` may then be None).
    """
    counts = None if plane is None else np.bincount(plane.ravel(), minlength=256)
    if (ink if plane is None else plane).size <= 1000:
        top = float(ink.max() if plane is None else table[counts > 0].max())
    elif counts is None:
        top = float(np.percentile(ink, 99.9))
    else:
        top = _percentile_of_counts(table, counts, 99.9)
    if top < 0.12:
        raise BlankPicture(
            f"{name} looks blank: no ink found (nothing differs from the paper); "
            "give a picture with a digit on it."
        )
    if counts is None:
        level = _otsu(np.clip(ink / top, 0, 1)) * top
    else:
        level = _otsu(np.clip(table / top, 0, 1), counts.astype(np.float64)) * top
    level = min(max(level, 0.35 * top), 0.65 * top)
    mask = ink > level if plane is None else np.take(table > level, plane)
    mask = _without_rules(mask)
    # Each speck of JPEG noise or dirt is a small separate component; the strokes
    # of the digit are large ones. Drop every component far smaller than the
    # largest, and those too small to be a stroke. (Labelled inside the ink's
    # bounding box: the same components, found in less paper.)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows):
        box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        labels, n = ndimage.label(mask[box], structure=_EIGHT_NEIGHBORS)
        if n > 1:
            sizes = np.bincount(labels.ravel())[1:]
            keep = sizes >= max(0.05 * sizes.max(), 1e-4 * mask.size)
            mask = np.zeros_like(mask)
            mask[box] = keep[labels - 1] & (labels > 0)
    if not mask.any():
        raise BlankPicture(
            f"{name} looks blank: no ink found; give a picture with a digit on it."
        )
    return mask


#: A rule (a printed line of ruled or squared paper) crosses at least
#: ``_RULE_SPAN`` of the picture and reaches ``_RULE_BEYOND`` of it beyond
#: the digit on both sides; it may climb ``_RULE_CLIMB`` of the picture across
#: it (a photo taken a little askew), and its thinner runs are at most
#: ``_RULE_THIN`` of the picture (or 5 pixels) thick. Measured on the 200
#: pictures of tests/test_ruled_paper.py and the same kind drawn with other
#: seeds: 192 read right (199 on plain paper; 60 before rules were taken away).
_RULE_SPAN = 0.8
_RULE_BEYOND = 0.05
_RULE_CLIMB = 0.05
_RULE_THIN = 0.04


def _without_rules(mask: np.ndarray) -> np.ndarray:
    """The mask without the rules of ruled or squared paper, if it has them.

    Rules are thin lines, level or nearly, across the whole picture and well
    beyond the digit on both sides, at least two in the same direction: a
    long stroke of a digit, or a digit cropped tightly, is never taken for
    one. Where a stroke of the digit crosses a rule, the crossing is kept.
    """
    found = [_long_thin_lines(mask), _long_thin_lines(mask.T)]
    if found[0] is None and found[1] is None:
        return mask
    lines = np.zeros_like(mask)
    for transposed, candidates in enumerate(found):
        if candidates is not None:
            (lines.T if transposed else lines)[...] |= candidates[0] > 0
    # A tilted rule's ragged edge is not all in its line: the digit is what
    # lies off the lines and their edges.
    edges = ndimage.binary_dilation(lines, _EIGHT_NEIGHBORS, iterations=2)
    parts, n = ndimage.label(mask & ~edges, _EIGHT_NEIGHBORS)
    if n == 0:
        return mask
    # Bits of rules left over are small; the digit's main strokes are not. A
    # part across the whole picture (a rule a stroke runs along) does not say
    # where the digit is; with no other part, nothing is taken away.
    sizes = np.bincount(parts.ravel())[1:]
    h, w = mask.shape
    digit_parts = [
        i
        for i, (rows, cols) in enumerate(ndimage.find_objects(parts), start=1)
        if sizes[i - 1] >= 0.25 * sizes.max()
        and rows.stop - rows.start < _RULE_SPAN * h
        and cols.stop - cols.start < _RULE_SPAN * w
    ]
    if not digit_parts:
        return mask
    digit = np.isin(parts, digit_parts)
    mask = mask.copy()
    for transposed, candidates in enumerate(found):
        if candidates is None:
            continue
        labels, spans, thickness = candidates
        across = mask.T if transposed else mask
        extent = np.flatnonzero((digit.T if transposed else digit).any(axis=0))
        beyond = _RULE_BEYOND * across.shape[1]
        rules = {
            i: typical
            for i, (first, last, typical) in spans.items()
            if first < extent[0] - beyond and last > extent[-1] + beyond
        }
        if len(rules) < 2:
            continue
        rule = _rule_pixels(across, labels, thickness, rules)
        rest = across & ~rule
        bridge = np.ones((_rule_thin(across) + 3, 1), dtype=bool)
        across[...] = rest | (ndimage.binary_closing(rest, bridge) & rule)
    return mask


_VERTICAL_RUNS = np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0]])


def _column_runs(mask: np.ndarray) -> np.ndarray:
    """For every pixel of ``mask``, the length of its run of ink down its column."""
    runs, _ = ndimage.label(mask, _VERTICAL_RUNS)
    return np.bincount(runs.ravel())[runs]


def _rule_pixels(mask, labels, thickness, rules) -> np.ndarray:
    """The pixels of ``mask`` on the straight lines of ``rules`` (label ->
    typical thickness): within half a rule's thickness of the line fitted to
    it, and no thicker there than the rule (a stroke along or across it is)."""
    h, w = mask.shape
    depth = _column_runs(mask)
    on_rules = np.zeros_like(mask)
    xs = np.arange(w)
    for i, typical in rules.items():
        ys, cols = np.nonzero((labels == i) & (thickness <= typical + 1))
        if len(ys) < 2:
            continue
        slope, offset = np.polyfit(cols, ys, 1)
        centre = offset + slope * xs
        near = np.abs(np.arange(h)[:, None] - centre[None, :]) <= typical / 2 + 1.5
        on_rules |= near & mask & (depth <= typical + 2)
    return on_rules


def _rule_thin(mask: np.ndarray) -> int:
    return max(5, int(_RULE_THIN * mask.shape[0]))


def _long_thin_lines(mask: np.ndarray):
    """The lines across ``mask`` (level, or nearly) that may be rules: their
    labels, each one's first and last column and typical thickness, and for
    every pixel the length of the run of line pixels in its column; None if
    there are fewer than two.
    """
    h, w = mask.shape
    if w < 32 or h < 8:
        return None
    # Cheap first: a rule puts ink in most columns, and some band of rows
    # must have ink in most columns.
    if mask.any(axis=0).mean() < _RULE_SPAN:
        return None
    band = max(3, int(_RULE_CLIMB * h))
    cover = ndimage.maximum_filter1d(mask, band, axis=0).mean(axis=1)
    if cover.max() < _RULE_SPAN:
        return None
    grown = ndimage.binary_dilation(mask, np.ones((5, 1), dtype=bool))
    long = ndimage.binary_opening(grown, np.ones((1, w // 2), dtype=bool)) & mask
    labels, _ = ndimage.label(long, _EIGHT_NEIGHBORS)
    # The length of each pixel's vertical run: thin where only a rule is.
    thickness = _column_runs(long)
    thin = _rule_thin(mask)
    spans = {}
    for i, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        if (
            cols.stop - cols.start < _RULE_SPAN * w
            or rows.stop - rows.start > band + 3 * thin
        ):
            continue
        # Where a stroke runs along a rule the runs are thicker: the rule's own
        # thickness is that of its thinner runs.
        own = thickness[rows, cols][labels[rows, cols] == i]
        typical = float(np.percentile(own, 25))
        if typical <= thin:
            spans[i] = (cols.start, cols.stop - 1, typical)
    if len(spans) < 2:
        return None
    keep = np.isin(labels, list(spans))
    return np.where(keep, labels, 0), spans, np.where(keep, thickness, 0)


def _crop(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _resize(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize a float map with area-aware interpolation (shrinking or growing)."""
    from PIL import Image

    h, w = a.shape
    # Straight from and to the float32 bytes (what fromarray and asarray do,
    # without their checks, which cost more than the resize of a small digit).
    data = np.ascontiguousarray(a, dtype=np.float32)
    image = Image.frombuffer("F", (w, h), data, "raw", "F", 0, 1)
    method = (
        Image.Resampling.BOX if width < w or height < h else Image.Resampling.BILINEAR
    )
    out = image.resize((width, height), method).tobytes()
    return np.frombuffer(out, dtype=np.float32).reshape(height, width).astype(float)


# ---------------------------------------------------------------------------
# Stroke thickness


def _zhang_suen_tables() -> tuple[np.ndarray, np.ndarray]:
    """For each of the 256 neighborhoods: may the center go in step 1 / step 2?"""
    tables = np.zeros((2, 256), dtype=bool)
    for code in range(256):
        # Bits 0..7 are the neighbors p2..p9: N, NE, E, SE, S, SW, W, NW.
        p = [(code >> i) & 1 for i in range(8)]
        p2, p3, p4, p5, p6, p7, p8, p9 = p
        b = sum(p)
        a = sum(p[i] == 0 and p[(i + 1) % 8] == 1 for i in range(8))
        if 2 <= b <= 6 and a == 1:
            tables[0, code] = p2 * p4 * p6 == 0 and p4 * p6 * p8 == 0
            tables[1, code] = p2 * p4 * p8 == 0 and p2 * p6 * p8 == 0
    return tables[0], tables[1]


_ZS_TABLES = _zhang_suen_tables()
# Weights that turn a 3×3 neighborhood into its code (p2 = north = bit 0, ...).
_ZS_WEIGHTS = np.array([[128, 1, 2], [64, 0, 4], [32, 16, 8]])


def _thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: the one-pixel-wide skeleton of a binary picture."""
    img = mask.astype(np.int32)
    while True:
        changed = False
        for table in _ZS_TABLES:
            code = ndimage.correlate(img, _ZS_WEIGHTS, mode="constant", cval=0)
            remove = (img == 1) & table[code]
            if remove.any():
                img[remove] = 0
                changed = True
        if not changed:
            break
    skeleton = img.astype(bool)
    return skeleton if skeleton.any() else mask.astype(bool)


def _with_ink(shape: np.ndarray, target: int, scale: int) -> np.ndarray:
    """Redraw a digit with the pen whose 32×32 bitmap has ``target`` ink pixels.

    ``shape`` is the digit drawn at ``scale`` times the bitmap's resolution.
    Thin strokes are thickened (the shape grown by a radius), thick ones thinned
    (shrunk by a radius, but never below their one-pixel skeleton, so no stroke
    breaks). A bitmap pixel is ink when at least half of its cell is, so each
    bitmap pixel switches on at one radius, and the radius that gives
    ``target`` ink pixels is read off directly.
    """
    outside = ndimage.distance_transform_edt(~shape)
    turn_on = _cell_radius(outside, scale)
    if int((turn_on <= 0).sum()) > target:
        # Too much ink at the drawn thickness: thin, keeping the skeleton.
        depth = ndimage.distance_transform_edt(shape)
        radius = np.where(shape, -depth, outside)
        radius[_ridge(depth)] = -np.inf
        turn_on = _cell_radius(radius, scale)
    ordered = np.sort(turn_on.ravel())
    level = ordered[min(target, ordered.size) - 1]
    # Equal radii switch on together; take whichever side of them is nearer.
    above = int(np.searchsorted(ordered, level, side="right"))
    below = int(np.searchsorted(ordered, level, side="left"))
    if below > 0 and target - below < above - target:
        level = ordered[below - 1]
    return turn_on <= level


def _ridge(depth: np.ndarray) -> np.ndarray:
    """The middle line of each stroke: pixels at least as deep as their neighbors."""
    return (depth > 0) & (depth >= ndimage.maximum_filter(depth, size=3))


def _cell_radius(radius: np.ndarray, scale: int) -> np.ndarray:
    """For each bitmap pixel, the radius at which half of its cell is ink."""
    if scale == 2:
        # The 2nd smallest of each cell's four: the larger of the two pairs'
        # minima or the smaller of their maxima, whichever is smaller.
        a, b = radius[0::2, 0::2], radius[0::2, 1::2]
        c, d = radius[1::2, 0::2], radius[1::2, 1::2]
        return np.minimum(
            np.maximum(np.minimum(a, b), np.minimum(c, d)),
            np.minimum(np.maximum(a, b), np.maximum(c, d)),
        )
    side = radius.shape[0] // scale
    cells = radius.reshape(side, scale, side, scale).transpose(0, 2, 1, 3)
    cells = np.sort(cells.reshape(side, side, scale * scale), axis=2)
    return cells[:, :, (scale * scale + 1) // 2 - 1]


# ---------------------------------------------------------------------------
# The pipelines


def _uci_bitmap(mask: np.ndarray) -> np.ndarray:
    """A digit's ink mask -> the 32×32 normalized bitmap of the UCI digits."""
    digit = _crop(mask, mask).astype(np.float32)  # 0 and 1: exact in either
    h, w = digit.shape
    s = _UCI_SCALE
    side = _UCI_SIDE * s
    box_h = _UCI_BOX_HEIGHT * s
    box_w = int(round(min(_UCI_BOX_WIDTH * s, max(1.0, w * box_h / h))))
    hi = _resize(digit, box_w, box_h) >= 0.5
    canvas = np.zeros((side, side), dtype=bool)
    left = (side - box_w) // 2
    top = (side - box_h) // 2
    canvas[top : top + box_h, left : left + box_w] = hi
    if not canvas.any():
        canvas[top : top + box_h, left : left + box_w] = (
            _resize(digit, box_w, box_h) > 0
        )
    return _with_ink(canvas, _UCI_TARGET_INK, s)


def _uci8x8(mask: np.ndarray) -> np.ndarray:
    bitmap = _uci_bitmap(mask)
    return bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3)).astype(np.float64)


def _mnist28(ink: np.ndarray, mask: np.ndarray) -> np.ndarray:
    level = ink[mask].min()
    gray = np.where(mask, ink, 0.0)
    gray = np.clip(gray / max(float(np.percentile(ink[mask], 90)), level), 0, 1)
    digit = _crop(gray, mask)
    h, w = digit.shape
    f = 20.0 / max(h, w)
    nh, nw = max(1, round(h * f)), max(1, round(w * f))
    small = np.clip(_resize(digit, nw, nh), 0, 1)
    canvas = np.zeros((28, 28))
    top, left = (28 - nh) // 2, (28 - nw) // 2
    canvas[top : top + nh, left : left + nw] = small
    cy, cx = ndimage.center_of_mass(canvas)
    # Whole-pixel shift, as MNIST did: gray levels stay what they were.
    dy, dx = int(round(13.5 - cy)), int(round(13.5 - cx))
    shifted = ndimage.shift(canvas, (dy, dx), order=0, mode="constant")
    return np.clip(np.round(shifted * 255.0), 0, 255)


def prepare(picture, pipeline: str = "uci8x8") -> np.ndarray:
    """Prepare one picture exactly the way a model's training digits were.

    Parameters
    ----------
    picture : str, Path, bytes, PIL.Image.Image or ndarray
        A picture file (PNG, JPEG, BMP, GIF, WebP...), its bytes, a PIL image,
        or an array of gray levels (h, w) or colors (h, w, 3|4).
    pipeline : {"uci8x8", "upright8x8", "mnist28"}
        The preparation of the model's training data (``model.pipeline``).

    Returns
    -------
    ndarray of shape (n_features,)
        One flat row, ready for ``model.predict``: 64 ink counts 0..16 for
        ``uci8x8`` and ``upright8x8``, 784 gray levels 0..255 for ``mnist28``.

    Raises
    ------
    DigitlabError
        The picture is not a picture, an empty file, blank (no ink), or too
        large; the message names it.

    Examples
    --------
    >>> import numpy as np
    >>> paper = np.full((100, 80), 255, dtype=np.uint8)
    >>> paper[10:90, 36:44] = 0  # a thick black vertical bar: a 1
    >>> bool(prepare(paper).reshape(8, 8)[:, 3:5].min() > 0)
    True
    """
    spec = _check_pipeline(pipeline)
    name = _name(picture)
    plane = table = None
    if isinstance(picture, np.ndarray):
        ink = load_ink(picture)
    else:
        image = _open_image(picture)
        try:
            levels = _image_to_levels(image)
            if levels is None:
                ink = load_ink(image)
            else:
                ink, plane, table = _ink_of_levels(*levels, spec.name == "mnist28")
        except DigitlabError:
            raise
        except (OSError, ValueError, TypeError, KeyError, EOFError) as exc:
            # Pillow converting an odd mode or frame of the user's picture.
            raise DigitlabError(picture_error_sentence(exc, name)) from None
    mask = _ink_mask(ink, name, plane, table)
    if spec.name == "uci8x8":
        return _uci8x8(mask).ravel()
    if spec.name == "upright8x8":
        return _upright8x8(mask)
    return _mnist28(ink, mask).ravel()


def prepare_many(pictures, pipeline: str = "uci8x8") -> np.ndarray:
    """:func:`prepare` for several pictures: one row each, shape (n, n_features)."""
    rows = [prepare(p, pipeline) for p in pictures]
    if not rows:
        n = int(np.prod(pipeline_shape(pipeline)))
        return np.empty((0, n))
    return np.vstack(rows)


def training_bitmap(image8x8) -> np.ndarray:
    """A 32×32 bitmap whose 4×4 blocks hold exactly a training digit's counts.

    The counts are spread smoothly (bilinear) over the bitmap, and in each block
    the pixels where the spread is highest are switched on, as many as the
    block's count. Counting the blocks of the result gives the digit back.

    Parameters
    ----------
    image8x8 : array-like of shape (8, 8) or (64,)
        Ink counts 0..16.

    Returns
    -------
    ndarray of bool, shape (32, 32)
    """
    counts = np.clip(np.round(np.asarray(image8x8, dtype=np.float64)), 0, 16)
    counts = counts.reshape(8, 8)
    density = ndimage.zoom(counts / 16.0, 4, order=1, mode="nearest")
    blocks = density.reshape(8, 4, 8, 4).transpose(0, 2, 1, 3).reshape(8, 8, 16)
    rank = np.argsort(np.argsort(-blocks, axis=2, kind="stable"), axis=2)
    on = rank < counts[:, :, None]
    return on.reshape(8, 8, 4, 4).transpose(0, 2, 1, 3).reshape(32, 32)


# A training digit's 32×32 bitmap is drawn again at this many times its size
# before it is slanted, narrowed or rotated (augment.vary_digit, straighten).
_HIGH = 4


def _drawing(image8x8):
    """A training digit's bitmap drawn at ``_HIGH`` times its size (PIL "F")."""
    from PIL import Image

    bitmap = training_bitmap(image8x8).astype(np.float32)
    side = _UCI_SIDE * _HIGH
    return Image.fromarray(bitmap, mode="F").resize(
        (side, side), Image.Resampling.BILINEAR
    )


def _redrawn(big, slant: float = 0.0, width: float = 1.0, rotation: float = 0.0):
    """A digit drawn by :func:`_drawing`, rotated, narrowed and slanted, as a
    ``uci8x8`` row (prepared again: box, size and ink normalized)."""
    from PIL import Image

    if rotation:
        big = big.rotate(rotation, resample=Image.Resampling.BILINEAR, expand=True)
    w_in, side = big.size
    # Input (u, v) lands at output x = u * width + slant * (side - v) - shift:
    # the top leans right for slant > 0, the bottom row stays in place.
    out_w = int(np.ceil(w_in * width + abs(slant) * side)) + 2
    shift = min(0.0, slant * side)
    coeffs = (1.0 / width, slant / width, (shift - slant * side) / width, 0, 1, 0)
    varied = big.transform(
        (out_w, side),
        Image.Transform.AFFINE,
        coeffs,
        resample=Image.Resampling.BILINEAR,
    )
    varied = np.asarray(varied) >= 0.5
    if not varied.any():
        varied = np.asarray(big) >= 0.5
    if not varied.any():
        return np.zeros(64)  # a blank digit stays blank
    return _uci8x8(varied).ravel()


def _lean(weights: np.ndarray) -> float:
    """How far ink leans: ``-mu11 / mu02`` of its second moments (columns per
    row, positive leaning right), for ink counts or a mask; 0 without ink."""
    ys, xs = np.nonzero(weights)
    w = weights[ys, xs].astype(np.float64)
    mass = w.sum()
    if mass <= 0:
        return 0.0
    dy = ys - (w * ys).sum() / mass
    dx = xs - (w * xs).sum() / mass
    mu02 = (w * dy * dy).sum() / mass
    return 0.0 if mu02 <= 0 else float(-((w * dx * dy).sum() / mass) / mu02)


def slant(image8x8) -> float:
    """How far an 8×8 digit leans: the shift of its top against its bottom.

    The slope of the ink's principal lean from its second moments (``mu11 /
    mu02``, columns per row), as a share of the height: 0.3 leans right, the
    ``slant`` of :func:`digitlab.augment.vary_digit`. 0 for a blank digit.
    """
    return _lean(np.asarray(image8x8, dtype=np.float64).reshape(8, 8))


# A picture's digit is sheared upright at least this many pixels tall (smaller
# ones are drawn larger first, so the shear does not make steps).
_UPRIGHT_HEIGHT = 128


def _upright8x8(mask: np.ndarray) -> np.ndarray:
    """A picture's ink mask sheared upright, then prepared as ``uci8x8``.

    The slant is measured on the picture's own ink (its second moments) and
    removed at the picture's resolution, finer than the 8×8 counts
    :func:`straighten` has for a training digit: the same step, on the best
    drawing of the digit there is.
    """
    from PIL import Image

    digit = _crop(mask, mask)
    h, w = digit.shape
    lean = _lean(digit)
    scale = max(1, -(-_UPRIGHT_HEIGHT // h))
    big = Image.fromarray(digit.astype(np.float32), mode="F")
    if scale > 1:
        big = big.resize((w * scale, h * scale), Image.Resampling.BILINEAR)
    return _redrawn(big, -lean)


def straighten(rows) -> np.ndarray:
    """8×8 digits drawn again upright: each one's :func:`slant` removed.

    The digit's counts are drawn as a large bitmap, sheared back by its
    slant and prepared again like a picture (``uci8x8``), so an upright row
    has the box, size and ink of any prepared picture. This is the
    ``upright8x8`` preparation of training digits; a picture is straightened
    the same way at its own, finer resolution (``prepare(picture,
    "upright8x8")``).

    Parameters
    ----------
    rows : array-like of shape (64,), (8, 8) or (n, 64)
        ``uci8x8`` rows (counts 0..16).

    Returns
    -------
    ndarray of shape (64,) for one digit, else (n, 64)
        A blank digit (no ink) comes back blank.

    Examples
    --------
    >>> import numpy as np
    >>> leaning = np.zeros((8, 8)); leaning[np.arange(8), np.arange(7, -1, -1)] = 16
    >>> round(slant(leaning), 2), abs(slant(straighten(leaning))) < 0.1
    (1.0, True)
    """
    a = np.asarray(rows, dtype=np.float64)
    if a.shape in ((64,), (8, 8)):
        row = a.ravel()
        return _redrawn(_drawing(row), -slant(row))
    if a.ndim != 2 or a.shape[1] != 64:
        raise DigitlabError(
            f"straighten needs 8×8 digits (rows of 64 counts), got shape {a.shape}."
        )
    out = np.empty_like(a)
    for i, row in enumerate(a):
        out[i] = _redrawn(_drawing(row), -slant(row))
    return out


def from_counts(rows, pipeline: str) -> np.ndarray | None:
    """``uci8x8`` rows (training digits, their drawn copies) as ``pipeline``
    prepares digits, or None for a pipeline of another resolution.

    ``uci8x8`` rows come back as they are and ``upright8x8`` rows
    straightened (:func:`straighten`); ``mnist28`` is not made of 8×8 counts.

    Examples
    --------
    >>> import numpy as np
    >>> digit = np.zeros(64); digit[3::8] = 16
    >>> bool((from_counts(digit[None], "uci8x8") == digit).all())
    True
    >>> from_counts(digit[None], "mnist28") is None
    True
    """
    name = _check_pipeline(pipeline).name
    if name == "uci8x8":
        return np.array(rows, dtype=np.float64)
    if name == "upright8x8":
        return straighten(rows)
    return None


def render_digit(
    image8x8,
    *,
    size: int = 256,
    pen: float = 1.0,
    ink=(0, 0, 0),
    paper=(255, 255, 255),
    alpha: bool = False,
) -> np.ndarray:
    """Draw an 8×8 training digit back as a large picture (the parity check).

    The 4×4 block counts are smoothed into a 32×32 bitmap with the right number
    of ink pixels per block, scaled up to ``size`` pixels and drawn with a pen
    ``pen`` times as thick as the original strokes.

    Parameters
    ----------
    image8x8 : array-like of shape (8, 8) or (64,)
        Ink counts 0..16 (a row of ``digits.data``).
    size : int
        Side of the square picture in pixels.
    pen : float
        Stroke thickness relative to the training digit (0.5: a thin pen).
    ink, paper : tuple of 3 ints
        Colors (RGB 0..255).
    alpha : bool
        Draw on a transparent canvas (RGBA, paper fully transparent).

    Returns
    -------
    ndarray of uint8, shape (size, size, 3) or (size, size, 4)
    """
    bitmap = training_bitmap(image8x8)
    margin = size // 8
    inner = size - 2 * margin
    big = _resize(bitmap.astype(np.float64), inner, inner) >= 0.5
    if pen != 1.0:
        skeleton = _thin(big)
        width = max(big.sum() / max(skeleton.sum(), 1), 1.0)
        big = ndimage.distance_transform_edt(~skeleton) <= width * pen / 2
    mask = np.zeros((size, size), dtype=bool)
    mask[margin : margin + inner, margin : margin + inner] = big
    if alpha:
        out = np.zeros((size, size, 4), dtype=np.uint8)
        out[mask, :3] = ink
        out[mask, 3] = 255
        return out
    out = np.empty((size, size, 3), dtype=np.uint8)
    out[:] = paper
    out[mask] = ink
    return out
