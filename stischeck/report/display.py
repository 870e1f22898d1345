"""Array operations for display: downsampling, stretch, histograms. Pure numpy.

Downsampling keeps what a reviewer must see: images are block-averaged,
difference maps keep the largest |difference| of each block (an averaged block
would hide a single differing pixel), masks keep any set pixel.
"""

import math
import warnings

import numpy as np

__all__ = [
    "block_factor",
    "block_mean",
    "block_extreme",
    "block_max",
    "stretch_limits",
    "histogram",
    "bin_edges",
    "grow",
    "is_integral",
    "is_wide",
    "MAX_DISPLAY_PX",
    "MAX_WIDE_PX",
]

#: Longest side of a displayed image, pixels (1024 x 1024 and 1062 x 1044 are averaged 2 x 2).
MAX_DISPLAY_PX = 540
#: Longest side of a wide strip (subarrays, aspect >= WIDE_ASPECT), shown full-width.
MAX_WIDE_PX = 1100
#: Images at least this many times wider than tall are stacked, not put side by side.
WIDE_ASPECT = 4.0


def is_wide(shape: tuple) -> bool:
    """True for strips (e.g. a 1060 x 40 subarray) that are shown one above the other."""
    ny, nx = shape
    return nx >= WIDE_ASPECT * max(ny, 1)


def block_factor(shape: tuple) -> int:
    """
    The integer block size that brings an image under the display limit.

    Parameters
    ----------
    shape : tuple of int
        (ny, nx).

    Returns
    -------
    int
        1 for images that fit; 2 for a 1024 x 1024 or a 1062 x 1044 frame.
    """
    limit = MAX_WIDE_PX if is_wide(shape) else MAX_DISPLAY_PX
    return max(1, math.ceil(max(shape) / limit))


def _blocks(a: np.ndarray, b: int, fill) -> np.ndarray:
    """View ``a`` padded with ``fill`` as (ny/b, nx/b, b*b) blocks."""
    ny, nx = a.shape
    py, px = -ny % b, -nx % b
    if py or px:
        a = np.pad(a, ((0, py), (0, px)), constant_values=fill)
    my, mx = a.shape[0] // b, a.shape[1] // b
    return a.reshape(my, b, mx, b).transpose(0, 2, 1, 3).reshape(my, mx, b * b)


def block_mean(a: np.ndarray, b: int) -> np.ndarray:
    """
    Mean of each b x b block over its finite pixels (NaN where none); float32.

    Parameters
    ----------
    a : ndarray
        (ny, nx) image, any float or integer dtype.
    b : int
        Block size; edge blocks are averaged over the pixels they have.
    """
    a = np.asarray(a, dtype=np.float32)
    if b == 1:
        return a
    finite = np.isfinite(a)
    if finite.all() and a.shape[0] % b == 0 and a.shape[1] % b == 0:
        ny, nx = a.shape
        return (
            a.reshape(ny // b, b, nx // b, b).mean(axis=(1, 3), dtype=np.float64).astype(np.float32)
        )
    blocks = _blocks(np.where(finite, a, 0.0).astype(np.float64), b, 0.0)
    counts = _blocks(finite.astype(np.int32), b, 0).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = blocks.sum(axis=2) / counts
    return np.where(counts > 0, out, np.nan).astype(np.float32)


def block_extreme(a: np.ndarray, b: int) -> np.ndarray:
    """
    The value of largest magnitude in each b x b block, sign kept (for difference maps).

    Non-finite pixels count as the largest; a block of zeros stays zero.
    """
    a = np.asarray(a, dtype=np.float32)
    if b == 1:
        return a
    blocks = _blocks(a, b, 0.0)
    mag = np.abs(blocks)
    mag[~np.isfinite(mag)] = np.inf
    pick = np.argmax(mag, axis=2)
    return np.take_along_axis(blocks, pick[..., None], axis=2)[..., 0]


def block_max(a: np.ndarray, b: int) -> np.ndarray:
    """The maximum of each b x b block (masks and category codes: any set pixel shows)."""
    if b == 1:
        return np.asarray(a)
    fill = 0 if np.asarray(a).dtype.kind in "biu" else -np.inf
    return _blocks(np.asarray(a), b, fill).max(axis=2)


def grow(codes: np.ndarray) -> np.ndarray:
    """
    Draw every non-zero code as a 3 x 3 square (higher codes win), so sparse masks show.

    Parameters
    ----------
    codes : ndarray of uint8
        (ny, nx) category codes, 0 = nothing.
    """
    out = codes.copy()
    padded = np.pad(codes, 1)
    ny, nx = codes.shape
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            np.maximum(out, padded[dy : dy + ny, dx : dx + nx], out=out)
    return out


def stretch_limits(values: np.ndarray) -> tuple:
    """
    Display limits of an image: astropy's ZScale (the IRAF/DS9 default) on its finite pixels.

    Returns
    -------
    tuple of float
        (low, high), DN; high > low even for a constant image.
    """
    from astropy.visualization import ZScaleInterval

    v = np.asarray(values, dtype=np.float32).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return -1.0, 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lo, hi = ZScaleInterval().get_limits(v)
    lo, hi = float(lo), float(hi)
    if not hi > lo:
        lo, hi = lo - 1.0, hi + 1.0
    return lo, hi


def is_integral(arrays, n_sample: int = 20000) -> bool:
    """True when sampled finite values of every array are whole numbers (raw DN)."""
    for a in arrays:
        v = np.asarray(a).ravel()
        v = v[:: max(1, v.size // n_sample)]
        v = v[np.isfinite(v)]
        if v.size and not np.array_equal(v, np.round(v)):
            return False
    return True


def bin_edges(lo: float, hi: float, bins: int, integral: bool = False) -> np.ndarray:
    """
    ``bins`` equal bins over [lo, hi]; for whole-number data, bins of whole DN centred on them.

    Integer data in bins narrower than 1 DN would show a comb of empty bins.
    """
    if not integral:
        return np.linspace(lo, hi, bins + 1)
    width = max(1, math.ceil((hi - lo) / bins))
    start = math.floor(lo) - 0.5
    n = max(1, math.ceil((hi - start) / width))
    return start + width * np.arange(n + 1, dtype=np.float64)


def histogram(arrays, lo: float, hi: float, bins: int = 120, integral: bool = False) -> tuple:
    """
    Counts of each array's finite values in ``bins`` equal bins over [lo, hi].

    Parameters
    ----------
    arrays : iterable of ndarray
    lo, hi : float
        The range, in the arrays' unit.
    bins : int
        Number of bins (fewer for whole-number data in 1-DN bins).
    integral : bool
        Whole-number data: bin edges at half-integers, see `bin_edges`.

    Returns
    -------
    tuple
        (edges ndarray of bins + 1 floats, list of count arrays, list of
        (n_below, n_above) per array: finite values outside the range).
    """
    edges = bin_edges(lo, hi, bins, integral)
    lo, hi = float(edges[0]), float(edges[-1])
    counts, outside = [], []
    for a in arrays:
        v = np.asarray(a).ravel()
        # bins + range (not the edge array) keeps numpy on its fast, sort-free path;
        # NaN fails both range comparisons and is not counted anywhere.
        c, _ = np.histogram(v, bins=len(edges) - 1, range=(lo, hi))
        counts.append(c)
        outside.append((int(np.count_nonzero(v < lo)), int(np.count_nonzero(v > hi))))
    return edges, counts, outside
