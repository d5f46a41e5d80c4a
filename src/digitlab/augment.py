"""More training digits from the built-in ones: slant, width and pen variations.

Writers differ: some slant their digits, some write narrow ones, some use a thick
pen. The 1,797 built-in digits come from 43 writers; real pictures (MNIST, a
phone photo) come from others. :func:`augment_digits` draws every training digit
again with other slants and widths and prepares each drawing with the very code
that prepares user pictures (:mod:`digitlab.preprocess`), so augmented rows are
exactly what a picture of that variation would give.
"""

from __future__ import annotations

import numpy as np

from digitlab.errors import DigitlabError
from digitlab.preprocess import _uci8x8, training_bitmap

__all__ = ["augment_digits", "vary_digit", "DEFAULT_VARIATIONS"]

#: (slant, width) pairs of the default model: slant is the horizontal shift of
#: the top against the bottom, as a share of the height (0.3: leaning right);
#: width multiplies the digit's width before it is normalized. Slants mattered
#: most on MNIST (70 % -> 85 %); narrower or wider hands did not help.
DEFAULT_VARIATIONS = tuple(
    (slant, 1.0) for slant in (-0.6, -0.45, -0.3, -0.15, 0.15, 0.3, 0.45, 0.6)
)

_HIGH = 4  # the 32×32 bitmap is drawn at 128×128 before it is varied


def vary_digit(image8x8, slant: float = 0.0, width: float = 1.0) -> np.ndarray:
    """One training digit drawn slanted and/or narrower, prepared again.

    Parameters
    ----------
    image8x8 : array-like of shape (8, 8) or (64,)
        Ink counts 0..16 (a row of ``digits.data``).
    slant : float
        Horizontal shift of the top against the bottom, as a share of the
        height; positive leans right.
    width : float
        Factor on the digit's width (0.7: a narrower hand).

    Returns
    -------
    ndarray of shape (64,)
        The varied digit's ``uci8x8`` row.
    """
    return _vary(_drawn(image8x8), slant, width)


def _drawn(image8x8):
    """A training digit's bitmap drawn at ``_HIGH`` times its size (PIL "F")."""
    from PIL import Image

    bitmap = training_bitmap(image8x8).astype(np.float32)
    side = 32 * _HIGH
    return Image.fromarray(bitmap, mode="F").resize(
        (side, side), Image.Resampling.BILINEAR
    )


def _vary(big, slant: float, width: float) -> np.ndarray:
    """:func:`vary_digit` of a digit already drawn by :func:`_drawn`."""
    from PIL import Image

    side = 32 * _HIGH
    # Input (u, v) lands at output x = u * width + slant * (side - v) - shift:
    # the top leans right for slant > 0, the bottom row stays in place.
    out_w = int(np.ceil(side * width + abs(slant) * side)) + 2
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
    return _uci8x8(varied).ravel()


def augment_digits(
    X, y, variations=DEFAULT_VARIATIONS, *, keep_original=True, progress=None
):
    """The training digits plus a varied copy of each for every variation.

    Parameters
    ----------
    X : array-like of shape (n, 64)
        ``uci8x8`` rows (counts 0..16), e.g. ``load_digits().X``.
    y : array-like of shape (n,)
    variations : sequence of (slant, width) pairs
        See :func:`vary_digit`. ``(0.0, 1.0)`` re-draws each digit unchanged,
        giving it the stroke thickness of prepared pictures.
    keep_original : bool
        Keep the original rows first.
    progress : callable, optional
        Called as ``progress(done, total)`` while the digits are drawn (every
        100 digits and at the end), e.g. to move a progress bar.

    Returns
    -------
    X_aug : ndarray of shape (n * (len(variations) + keep_original), 64)
    y_aug : ndarray
        Rows are grouped by variation: originals first, then each variation's
        copy of every digit, in the order of ``X``.

    Examples
    --------
    >>> import digitlab
    >>> data = digitlab.load_digits()
    >>> X, y = augment_digits(data.X[:10], data.y[:10], [(0.2, 1.0)])
    >>> X.shape, y.tolist()[10:13]
    ((20, 64), [0, 1, 2])
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 64:
        raise DigitlabError(
            f"augment_digits needs uci8x8 rows of 64 counts, got shape {X.shape}."
        )
    variations = list(variations)
    parts_X = [X] if keep_original else []
    parts_y = [y] if keep_original else []
    for _, width in variations:
        if not 0.2 <= width <= 5:
            raise DigitlabError(f"width {width} is not in 0.2..5; use e.g. 0.8.")
    if len(variations):
        # Each digit is drawn once and varied from that drawing every way.
        varied = np.empty((len(variations), len(X), 64))
        for i, x in enumerate(X):
            big = _drawn(x)
            for j, (slant, width) in enumerate(variations):
                varied[j, i] = _vary(big, slant, width)
            if progress is not None and ((i + 1) % 100 == 0 or i + 1 == len(X)):
                progress(i + 1, len(X))
        parts_X.extend(varied)
        parts_y.extend(y for _ in variations)
    if not parts_X:
        return np.empty((0, 64)), y[:0]
    return np.vstack(parts_X), np.concatenate(parts_y)
