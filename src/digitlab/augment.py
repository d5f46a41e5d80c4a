"""More training digits from the built-in ones: slant, width, turn and style.

Writers differ: some slant their digits, some turn them, some write narrow ones,
some leave strokes out. The 1,797 built-in digits come from a few writers; real
pictures (MNIST, a phone photo) come from others. :func:`augment_digits` draws
every training digit again with other slants, widths and turns and prepares each
drawing with the very code that prepares user pictures
(:mod:`digitlab.preprocess`), so augmented rows are exactly what a picture of
that variation would give. :func:`without_side_strokes` draws a digit again
without its short side strokes (the bar every built-in 7 has);
:func:`with_foot` draws one standing on a foot (the printed 1's, which no
built-in 1 has), :func:`with_loop` one with a loop in its lower left corner
(the looped 2 of many writers, which no built-in 2 has) and
:func:`as_two_bowls` one as two stacked bowls (the round-topped 3; the
built-in 3s have flat tops).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from digitlab.errors import DigitlabError
from digitlab.preprocess import _drawing, _redrawn, _thin, _uci8x8

__all__ = [
    "as_two_bowls",
    "augment_digits",
    "vary_digit",
    "with_foot",
    "with_loop",
    "without_side_strokes",
    "DEFAULT_VARIATIONS",
    "SLANTS",
]

#: (slant, width) pairs of slanted copies: slant is the horizontal shift of
#: the top against the bottom, as a share of the height (0.3: leaning right);
#: width multiplies the digit's width before it is normalized. The copies of
#: the ``uci8x8`` default model before it straightened its digits (MNIST: 70 %
#: -> 85 %).
SLANTS = tuple(
    (slant, 1.0) for slant in (-0.6, -0.45, -0.3, -0.15, 0.15, 0.3, 0.45, 0.6)
)

#: (slant, width, rotation) of the default model's copies. Its digits are
#: straightened (``upright8x8``), so slanted copies would come back upright;
#: what straightening leaves are turns and widths: 10 degrees either way, a
#: narrower and a wider hand (all 10,000 MNIST digits, straightened rows,
#: tangent distance: 84.3 % without the copies, 86.2 % with them).
DEFAULT_VARIATIONS = ((0.0, 1.0, -10.0), (0.0, 1.0, 10.0), (0.0, 0.7), (0.0, 1.4))


def vary_digit(
    image8x8, slant: float = 0.0, width: float = 1.0, rotation: float = 0.0
) -> np.ndarray:
    """One training digit drawn slanted, narrower and/or rotated, prepared again.

    Parameters
    ----------
    image8x8 : array-like of shape (8, 8) or (64,)
        Ink counts 0..16 (a row of ``digits.data``).
    slant : float
        Horizontal shift of the top against the bottom, as a share of the
        height; positive leans right.
    width : float
        Factor on the digit's width (0.7: a narrower hand).
    rotation : float
        Degrees, counterclockwise.

    Returns
    -------
    ndarray of shape (64,)
        The varied digit's ``uci8x8`` row.
    """
    return _redrawn(_drawing(image8x8), slant, width, rotation)


# Side strokes (the bar across a 7) are skeleton branches shorter than this
# share of the digit's height that end free on one side; shorter than
# _SPECK_BRANCH they are the drawing's own roughness.
_SIDE_STROKE = 0.3
_SPECK_BRANCH = 0.08
_SMOOTH_SIDE = 64
_EIGHT = np.ones((3, 3))


def _smooth_drawing(image8x8) -> np.ndarray:
    """A digit's counts drawn smoothly at 64×64: the ink of each 8×8 block
    spread and blurred, the darkest pixels taken, as many as the counts say."""
    counts = np.asarray(image8x8, dtype=np.float64).reshape(8, 8) / 16.0
    scale = _SMOOTH_SIDE // 8
    density = ndimage.zoom(counts, scale, order=1, mode="nearest")
    density = ndimage.gaussian_filter(density, 2.0)
    n_ink = int(round(counts.sum() * scale * scale))
    if n_ink == 0:
        return np.zeros(density.shape, dtype=bool)
    level = np.sort(density.ravel())[::-1][n_ink - 1]
    return density >= level


def _branches(skeleton: np.ndarray):
    """The skeleton's branches between its junctions, and which end free."""
    neighbors = ndimage.convolve(skeleton.astype(int), _EIGHT, mode="constant") - 1
    neighbors = np.where(skeleton, neighbors, 0)
    junctions = ndimage.binary_dilation(skeleton & (neighbors >= 3), _EIGHT)
    junctions &= skeleton
    labels, n = ndimage.label(skeleton & ~junctions, _EIGHT)
    free = np.zeros(n + 1, dtype=bool)
    free[labels[skeleton & (neighbors == 1)]] = True
    attached = np.zeros(n + 1, dtype=bool)
    attached[labels[ndimage.binary_dilation(junctions, _EIGHT)]] = True
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    spur = free & attached
    spur[0] = False
    return labels, spur, sizes


def _without_spurs(skeleton: np.ndarray, longest: float) -> np.ndarray:
    """The skeleton without its branches that end free and are shorter than
    ``longest`` pixels (three rounds: removing one can leave another)."""
    for _ in range(3):
        labels, spur, sizes = _branches(skeleton)
        spur &= sizes < longest
        if not spur.any():
            break
        skeleton = _thin(skeleton & ~spur[labels])
    return skeleton


def without_side_strokes(image8x8) -> np.ndarray | None:
    """A digit drawn again without its short side strokes, or None if it has none.

    A side stroke is a short branch of the digit's skeleton that ends free:
    the bar across a 7, the flag and foot of a 1. Many writers leave them
    out; the writers of the built-in digits cross every 7. The digit is drawn
    smoothly, thinned to its skeleton, the short free branches (under 30 % of
    the height) are removed, and the strokes around the rest are kept.

    Returns
    -------
    ndarray of shape (64,) or None
        The ``uci8x8`` row without the side strokes.
    """
    ink = _smooth_drawing(image8x8)
    if not ink.any():
        return None
    skeleton = _thin(ink)
    height = np.ptp(np.flatnonzero(ink.any(axis=1))) + 1
    rough = _without_spurs(skeleton, _SPECK_BRANCH * height)
    bare = _without_spurs(rough, _SIDE_STROKE * height)
    if bare.sum() == rough.sum() or not bare.any():
        return None
    radius = _pen_radius(ink, skeleton)
    kept = ink & (ndimage.distance_transform_edt(~bare) <= radius + 1)
    return _uci8x8(kept).ravel()


def _pen_radius(ink: np.ndarray, skeleton: np.ndarray) -> float:
    """Half the width of a drawing's strokes: its depth along the skeleton."""
    depth = ndimage.distance_transform_edt(ink)
    return max(float(np.median(depth[skeleton])), 1.0)


#: How far a foot reaches on each side of the stem, as a share of the digit's
#: height. Chosen on the ten digits of 38 TrueType fonts (of their 38 printed
#: 1s, read as 1 with no footed copies: 12; reach 0.3: 20, 0.4: 29, 0.5: 23;
#: with a foot as thick as the strokes instead of half: 16 at 0.4); all 10,000
#: MNIST digits read the same with any of them (88.4-88.5 %).
_FOOT_REACH = 0.4

#: The bottom share of the digit's height whose ink places the foot.
_FOOT_BASE = 0.12


def with_foot(image8x8) -> np.ndarray | None:
    """A digit drawn again standing on a foot, or None if it is blank.

    The printed 1 stands on a foot, and so does the 1 of writers who copy
    print; no writer of the built-in digits draws one, and a footed 1 reads
    as 2. The digit is drawn smoothly and a bar half as thick as its strokes
    (the preparation gives it the pen of the rest) is laid under the middle
    of its lowest ink, reaching :data:`_FOOT_REACH` of the height to each side.

    Returns
    -------
    ndarray of shape (64,) or None
        The ``uci8x8`` row with the foot.
    """
    ink = _smooth_drawing(image8x8)
    if not ink.any():
        return None
    rows = np.flatnonzero(ink.any(axis=1))
    top, bottom = int(rows[0]), int(rows[-1])
    height = bottom - top + 1
    base = ink[bottom - int(_FOOT_BASE * height) : bottom + 1]
    middle = float(np.flatnonzero(base.any(axis=0)).mean())
    reach = _FOOT_REACH * height
    thickness = int(round(_pen_radius(ink, _thin(ink))))
    left = max(int(round(middle - reach)), 0)
    right = int(round(middle + reach)) + 1
    footed = ink.copy()
    footed[max(bottom - thickness + 1, 0) : bottom + 1, left:right] = True
    return _uci8x8(footed).ravel()


#: The loop of :func:`with_loop`: its radius as a share of the digit's height,
#: and where its centre lies from the corner, in radii to the right and up.
#: Chosen on the even-numbered 5,000 MNIST test digits (radius 0.15, 0.2,
#: 0.25; centre (0.5, 1.5), (0.7, 1.2), (1, 1)): 88.2 % without looped 2s,
#: 88.6 % with these; the odd-numbered 5,000, not looked at for the choice:
#: 88.7 -> 89.1 %.
_LOOP_RADIUS = 0.15
_LOOP_CENTRE = (0.5, 1.5)


def with_loop(image8x8) -> np.ndarray | None:
    """A digit drawn again with a small loop in its lower left corner, or
    None if it is blank.

    Many writers loop the 2 where its slope turns into its base; no writer of
    the built-in digits does, and a looped 2 reads as 7. The digit is drawn
    smoothly, its lowest-leftmost skeleton point is the corner, and a ring
    half as thick as its strokes (the preparation gives it the pen of the
    rest) is drawn just above it (:data:`_LOOP_RADIUS`, :data:`_LOOP_CENTRE`).

    Returns
    -------
    ndarray of shape (64,) or None
        The ``uci8x8`` row with the loop.
    """
    ink = _smooth_drawing(image8x8)
    if not ink.any():
        return None
    skeleton = _thin(ink)
    ys, xs = np.nonzero(skeleton)
    corner = int(np.argmax(ys - xs))
    rows = np.flatnonzero(ink.any(axis=1))
    radius = _LOOP_RADIUS * (rows[-1] - rows[0] + 1)
    right, up = _LOOP_CENTRE
    cy, cx = ys[corner] - up * radius, xs[corner] + right * radius
    yy, xx = np.mgrid[0 : ink.shape[0], 0 : ink.shape[1]]
    ring = np.abs(np.hypot(xx - cx, yy - cy) - radius) <= 0.5 * _pen_radius(
        ink, skeleton
    )
    return _uci8x8(ink | ring).ravel()


def augment_digits(
    X, y, variations=DEFAULT_VARIATIONS, *, keep_original=True, progress=None
):
    """The training digits plus a varied copy of each for every variation.

    Parameters
    ----------
    X : array-like of shape (n, 64)
        ``uci8x8`` rows (counts 0..16), e.g. ``load_digits().X``.
    y : array-like of shape (n,)
    variations : sequence of (slant, width) or (slant, width, rotation)
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
    for variation in variations:
        width = variation[1]
        if not 0.2 <= width <= 5:
            raise DigitlabError(f"width {width} is not in 0.2..5; use e.g. 0.8.")
    if len(variations):
        # Each digit is drawn once and varied from that drawing every way.
        varied = np.empty((len(variations), len(X), 64))
        for i, x in enumerate(X):
            big = _drawing(x)
            for j, variation in enumerate(variations):
                varied[j, i] = _redrawn(big, *variation)
            if progress is not None and ((i + 1) % 100 == 0 or i + 1 == len(X)):
                progress(i + 1, len(X))
        parts_X.extend(varied)
        parts_y.extend(y for _ in variations)
    if not parts_X:
        return np.empty((0, 64)), y[:0]
    return np.vstack(parts_X), np.concatenate(parts_y)


#: :func:`as_two_bowls`: where the lower bowl begins, as a share of the
#: height from the top, and the size of its copy on top. Chosen on the
#: even-numbered 5,000 MNIST test digits (lower bowl from 0.4, 0.45, 0.5 of the
#: height; copy 0.7-1.0 as tall and as wide): 88.6 % without two-bowl 3s,
#: 88.8 % with these; the odd-numbered 5,000, not looked at for the choice:
#: 89.1 -> 89.3 %.
_BOWL_CUT = 0.45
_TOP_BOWL = 0.85


def as_two_bowls(image8x8) -> np.ndarray | None:
    """A digit drawn again as two stacked bowls, or None if it is blank.

    Many writers make the 3 of two round bowls; the writers of the built-in
    digits give it a flat top, and a round-topped 3 reads as 9. The digit is
    drawn smoothly, its lower bowl (the ink below :data:`_BOWL_CUT` of its
    height) is kept, and a copy of that bowl, :data:`_TOP_BOWL` as large,
    takes the place of the rest, sitting on it and flush with its right.

    Returns
    -------
    ndarray of shape (64,) or None
        The ``uci8x8`` row of the two bowls.
    """
    ink = _smooth_drawing(image8x8)
    if not ink.any():
        return None
    rows = np.flatnonzero(ink.any(axis=1))
    top, bottom = int(rows[0]), int(rows[-1])
    lower = ink[top + int(_BOWL_CUT * (bottom - top + 1)) : bottom + 1]
    cols = np.flatnonzero(lower.any(axis=0))
    bowl = lower[:, cols[0] : cols[-1] + 1].astype(np.float64)
    h, w = (max(2, int(round(n * _TOP_BOWL))) for n in bowl.shape)
    copy = ndimage.zoom(bowl, (h / bowl.shape[0], w / bowl.shape[1]), order=1) >= 0.5
    drawing = np.zeros((h + len(lower), ink.shape[1]), dtype=bool)
    drawing[h:] = lower
    left = max(int(cols[-1]) - w + 1, 0)
    drawing[:h, left : left + w] |= copy[:, : ink.shape[1] - left]
    return _uci8x8(drawing).ravel()
