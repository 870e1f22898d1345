"""Pixel-level comparison of two arrays: float (SCI, ERR) and DQ bitmasks.

Pure functions on ndarrays; nothing here knows about files or headers. Pixel
positions are reported FITS-style, ``[x, y]`` 1-based (x = column + 1,
y = row + 1), as in IRAF and DS9.
"""

from dataclasses import dataclass

import numpy as np

from stischeck.dqbits import DQ_BITS

__all__ = [
    "FINITE_CLASSES",
    "FloatComparison",
    "DQComparison",
    "WorstPixel",
    "compare_float",
    "compare_dq",
    "same_bytes",
    "ulp_distance",
    "value_class",
    "DQ_BIT_NAMES",
    "REL_LADDER",
    "SIGMA_LADDER",
    "ULP_BINS",
]

#: Classes of the non-finite confusion table, in table order.
FINITE_CLASSES = ("finite", "nan", "+inf", "-inf")
#: Thresholds of the "share of pixels above" ladder on the symmetric relative difference.
REL_LADDER = (0.0, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
#: Thresholds of the ladder on |ΔSCI|/ERR (SCI only).
SIGMA_LADDER = (1e-3, 1e-2, 1e-1, 1.0)
#: Upper edges of the ulp-distance histogram bins: 0, 1, 2, 3-4, 5-16, 17-256, 257-65536, more.
ULP_BINS = (0, 1, 2, 4, 16, 256, 65536)
#: bit value -> name, all 16 bits of an int16 DQ word (unnamed bits as BIT<n>).
DQ_BIT_NAMES = {1 << k: f"BIT{1 << k}" for k in range(16)} | {v: k for k, v in DQ_BITS.items()}


@dataclass(frozen=True)
class WorstPixel:
    """One of the largest differences: FITS [x, y] (1-based), both values and the measures."""

    x: int
    y: int
    a: float
    b: float
    abs_diff: float
    ulp: int
    sigma: float
    flagged: bool


@dataclass(frozen=True)
class FloatComparison:
    """Everything measured on one pair of float arrays (one extension of one imset).

    ``subsets`` maps ``"all"``, ``"good"`` (no SDQFLAGS bit set on either side)
    and ``"flagged"`` to a dict of statistics (``n_pixels``, ``n_differ``,
    ``max_abs_diff``, ``max_rel_diff``, ``max_ulp``, ``max_sigma``).
    ``n_outside`` counts pixels that fail the per-pixel tolerance rules
    (equal to ``n_differ`` under the exact policy).
    """

    shape: tuple
    n_pixels: int
    n_differ: int
    n_outside: int
    max_abs_diff: float
    max_rel_diff: float
    max_ulp: int
    max_sigma: float
    ulp_histogram: tuple  # counts per ULP_BINS bin (+ one "more" bin), over differing finite pairs
    rel_ladder: tuple  # share of all pixels with symmetric relative difference > REL_LADDER[i]
    sigma_ladder: tuple  # share of pixels with |Δ|/ERR > SIGMA_LADDER[i] (empty if no ERR)
    nonfinite: tuple  # 4x4 counts, rows = class in a, columns = class in b (FINITE_CLASSES)
    nonfinite_mismatch: int  # pixels whose class differs, or whose NaN/inf moved
    subsets: dict
    worst: tuple  # WorstPixel, largest first
    integer: bool = False  # integer data (raw SCI): ulp distances are integer differences

    @property
    def identical(self) -> bool:
        """True when no pixel differs."""
        return self.n_differ == 0


@dataclass(frozen=True)
class DQComparison:
    """Per-bit comparison of two DQ arrays.

    ``bits`` maps each bit value present on either side to
    ``(only_a, only_b, both)`` pixel counts; ``first`` maps a bit that differs to
    the FITS [x, y] of its first differing pixel (row-major order).
    """

    shape: tuple
    n_pixels: int
    n_differ: int
    bits: dict
    first: dict

    @property
    def identical(self) -> bool:
        """True when every bit of every pixel agrees."""
        return self.n_differ == 0

    def differing_bits(self) -> list:
        """Bit values whose counts differ in position (only_a or only_b > 0), lowest first."""
        return [bit for bit, (oa, ob, _) in sorted(self.bits.items()) if oa or ob]


def same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two arrays have one dtype (byte order included) and the same bytes."""
    return a.dtype == b.dtype and np.array_equal(a.ravel().view(np.uint8), b.ravel().view(np.uint8))


def value_class(values: np.ndarray) -> np.ndarray:
    """Class codes 0 finite, 1 NaN, 2 +inf, 3 -inf (uint8, same shape)."""
    codes = np.zeros(values.shape, np.uint8)
    if np.isfinite(values).all():
        return codes
    codes[np.isnan(values)] = 1
    codes[values == np.inf] = 2
    codes[values == -np.inf] = 3
    return codes


def _ordered_int(values: np.ndarray) -> np.ndarray:
    """Map IEEE floats to integers whose order and spacing is the float order in ulps."""
    if values.dtype.itemsize == 4:
        bits = values.astype(np.float32, copy=False).view(np.int32)
        sign = bits >> 31  # -1 where the sign bit is set, else 0
        ordered = bits & np.int32(0x7FFFFFFF)
        np.bitwise_xor(ordered, sign, out=ordered)
        np.subtract(ordered, sign, out=ordered)  # -magnitude where negative: -0 is 0
        return ordered  # int32: differences of two need int64 (`ulp_distance`)
    bits = values.astype(np.float64, copy=False).view(np.int64)
    return np.where(bits < 0, -(bits & 0x7FFFFFFFFFFFFFFF), bits)


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """
    Distance in units in the last place between finite floats of the same dtype.

    Parameters
    ----------
    a, b : ndarray of float32 (or float64)
        Same shape. Non-finite entries give meaningless distances: mask them.

    Returns
    -------
    ndarray of int64
        0 where the values are equal (+0 and -0 are equal), 1 for neighbours.
    """
    if a.dtype.itemsize == 4 and b.dtype.itemsize == 4:
        distance = np.subtract(_ordered_int(a), _ordered_int(b), dtype=np.int64)
        return np.abs(distance, out=distance)
    # float64 (or mixed): measure in float64 ulps; saturate instead of overflowing.
    da = _ordered_int(a.astype(np.float64)).astype(np.float64)
    db = _ordered_int(b.astype(np.float64)).astype(np.float64)
    return np.minimum(np.abs(da - db), 2**62).astype(np.int64)


def compare_float(
    a: np.ndarray,
    b: np.ndarray,
    *,
    err: np.ndarray | None = None,
    flagged: np.ndarray | None = None,
    atol: float = 0.0,
    rtol: float = 0.0,
    max_ulp: int = 0,
    max_sigma: float | None = None,
    n_worst: int = 10,
    integer: bool = False,
) -> FloatComparison:
    """
    Compare two float arrays pixel by pixel.

    Parameters
    ----------
    a, b : ndarray
        Same shape (the caller reports shape changes); float32 for STIS SCI/ERR.
    err : ndarray, optional
        The ERR to normalise SCI differences by (|Δ|/ERR, where ERR > 0 and finite).
    flagged : ndarray of bool, optional
        Pixels flagged by SDQFLAGS on either side; statistics are split by it.
    atol, rtol, max_ulp, max_sigma
        Per-pixel tolerances: a finite pair is within when
        ``|a - b| <= atol + rtol * max(|a|, |b|)``, or its ulp distance is at most
        ``max_ulp``, or ``|a - b| / err <= max_sigma``. NaN and infinities are
        never within unless both sides hold the same class at the same pixel.
    n_worst : int
        How many of the largest differences to keep.
    integer : bool
        ``a`` and ``b`` hold integers (int64): the "ulp" distance of a pair is
        then its exact integer difference, the spacing of integers being 1.

    Returns
    -------
    FloatComparison
    """
    shape = a.shape
    a_flat, b_flat = a.ravel(), b.ravel()
    n = a_flat.size
    flagged_flat = None if flagged is None else flagged.ravel()
    all_finite = bool(np.isfinite(a_flat).all() and np.isfinite(b_flat).all())
    if all_finite:
        ca = cb = None
        confusion = np.zeros((4, 4), np.int64)
        confusion[0, 0] = n
    else:
        ca, cb = value_class(a_flat), value_class(b_flat)
        confusion = np.bincount(ca.astype(np.int64) * 4 + cb, minlength=16).reshape(4, 4)
    # Fast path: bit-identical arrays (the common verdict) need no arithmetic.
    if same_bytes(a_flat, b_flat):
        return _identical(shape, n, confusion, flagged_flat, err is not None, integer)
    # Arithmetic from here, on native values (arrays may come as stored, big-endian).
    a_flat, b_flat = (x.astype(x.dtype.newbyteorder("="), copy=False) for x in (a_flat, b_flat))

    if all_finite:
        differ_idx = np.flatnonzero(a_flat != b_flat)
    else:
        # Same NaN position, or the same infinity, is not a difference.
        equal = (a_flat == b_flat) | ((ca == 1) & (cb == 1))
        differ_idx = np.flatnonzero(~equal)
    n_differ = int(differ_idx.size)
    every = n_differ == n  # then the differing pixels are the arrays themselves: no gather
    a_diff, b_diff = (a_flat, b_flat) if every else (a_flat[differ_idx], b_flat[differ_idx])
    if all_finite:
        nonfinite_mismatch = 0
        both_finite = np.ones(differ_idx.size, bool)
    else:
        nonfinite_mismatch = int(np.count_nonzero((ca != cb)[differ_idx]))
        both_finite = (ca[differ_idx] == 0) & (cb[differ_idx] == 0)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        absdiff = np.subtract(a_diff, b_diff, dtype=np.float64)  # both converted to float64
        np.abs(absdiff, out=absdiff)
        if a_diff.dtype == np.float32 and b_diff.dtype == np.float32:
            # |x| and max are exact in float32, and so is the conversion after them.
            scale = np.maximum(np.abs(a_diff), np.abs(b_diff)).astype(np.float64)
        else:
            scale = np.maximum(np.abs(a_diff.astype(np.float64)), np.abs(b_diff.astype(np.float64)))
        if all_finite:
            # Two different finite values are not both zero: scale > 0 throughout.
            rel = np.divide(absdiff, scale)
        else:
            rel = absdiff / np.where(scale > 0, scale, 1.0)
            absdiff[~both_finite] = np.inf
            rel[~both_finite] = np.inf
        if integer:
            ulps = np.abs(a_diff.astype(np.int64) - b_diff.astype(np.int64))
        elif all_finite:
            ulps = ulp_distance(a_diff, b_diff)
        else:
            ulps = np.full(differ_idx.size, np.iinfo(np.int64).max, np.int64)
            ulps[both_finite] = ulp_distance(a_diff[both_finite], b_diff[both_finite])
        if err is not None:
            e = err.ravel() if every else err.ravel()[differ_idx]
            sigma = np.divide(absdiff, e, dtype=np.float64)
            sigma[~(np.isfinite(e) & (e > 0))] = np.nan  # no ERR to measure by
        else:
            sigma = np.full(differ_idx.size, np.nan)

    with np.errstate(invalid="ignore"):  # inf * 0 where a side is infinite: masked out
        if atol or rtol:
            within = both_finite & (absdiff <= atol + rtol * scale)
        else:  # two different finite values are never 0 apart
            within = np.zeros(differ_idx.size, bool)
        if max_ulp:
            within |= both_finite & (ulps <= max_ulp)
        if max_sigma is not None and max_sigma > 0:
            within |= both_finite & (sigma <= max_sigma)
    n_outside = int(np.count_nonzero(~within))

    finite_ulps = ulps if all_finite else ulps[both_finite]
    # Bin k holds ULP_BINS[k-1] < ulp <= ULP_BINS[k]; the last one everything above.
    at_or_below = [np.count_nonzero(finite_ulps <= edge) for edge in ULP_BINS]
    ulp_hist = np.diff([0, *at_or_below, finite_ulps.size])
    rel_ladder = tuple(float(np.count_nonzero(rel > t)) / n for t in REL_LADDER)
    sigma_ladder = (
        tuple(float(np.count_nonzero(sigma > t)) / n for t in SIGMA_LADDER)
        if err is not None
        else ()
    )

    if flagged_flat is None:
        flags_here = np.zeros(differ_idx.size, bool)
    else:
        flags_here = flagged_flat if every else flagged_flat[differ_idx]
    n_flagged = 0 if flagged_flat is None else int(np.count_nonzero(flagged_flat))
    stats = (absdiff, rel, ulps, sigma)
    subsets = {"all": _summary(n, *stats)}
    n_flagged_differ = int(np.count_nonzero(flags_here))
    if n_flagged_differ == 0:  # one subset is every differing pixel: the same figures
        subsets["good"] = dict(subsets["all"], n_pixels=n - n_flagged)
        subsets["flagged"] = _summary(n_flagged, *(x[:0] for x in stats))
    elif n_flagged_differ == differ_idx.size:
        subsets["good"] = _summary(n - n_flagged, *(x[:0] for x in stats))
        subsets["flagged"] = dict(subsets["all"], n_pixels=n_flagged)
    else:
        subsets["good"] = _summary(n - n_flagged, *stats, mask=~flags_here)
        subsets["flagged"] = _summary(n_flagged, *stats, mask=flags_here)

    # The n_worst largest |Δ| (non-finite mismatches count as infinite), then by position.
    order = _largest_first(absdiff, n_worst)
    ny_nx = shape if len(shape) == 2 else (1, n)
    worst = []
    for k in order:
        row, col = divmod(int(differ_idx[k]), ny_nx[-1])
        worst.append(
            WorstPixel(
                x=col + 1,
                y=row + 1,
                a=float(a_flat[differ_idx[k]]),
                b=float(b_flat[differ_idx[k]]),
                abs_diff=float(absdiff[k]),
                ulp=int(ulps[k]),
                sigma=float(sigma[k]),
                flagged=bool(flags_here[k]),
            )
        )
    top = subsets["all"]
    return FloatComparison(
        shape=shape,
        n_pixels=n,
        n_differ=n_differ,
        n_outside=n_outside,
        max_abs_diff=top["max_abs_diff"],
        max_rel_diff=top["max_rel_diff"],
        max_ulp=top["max_ulp"],
        max_sigma=top["max_sigma"],
        ulp_histogram=tuple(int(c) for c in ulp_hist),
        rel_ladder=rel_ladder,
        sigma_ladder=sigma_ladder,
        nonfinite=tuple(tuple(int(c) for c in row) for row in confusion),
        nonfinite_mismatch=nonfinite_mismatch,
        subsets=subsets,
        worst=tuple(worst),
        integer=integer,
    )


def _largest_first(values: np.ndarray, k: int) -> np.ndarray:
    """
    Indices of the ``k`` largest ``values``, largest first, equal values by index.

    ``values`` are float64 without NaN (|Δ|, inf for non-finite pairs), in
    raster order, so index order is position order. The candidates are the
    values at or above the k-th largest of every n/4096-th value (no larger
    than the k-th largest of all, so every one of the k is among them); a
    sort of those few replaces a partition of all (52 of 110 ms of a diff
    of two full-frame SCI arrays whose every pixel differs). Where equal
    values make the candidates many, the exact k-th largest decides.
    """
    n = values.size
    if k <= 0:
        return np.empty(0, np.intp)
    if n <= k:
        candidates = np.arange(n)
    else:
        sample = values[:: max(1, n // 4096)]
        candidates = None
        if sample.size >= k:
            floor = np.partition(sample, sample.size - k)[sample.size - k]
            candidates = np.flatnonzero(values >= floor)
        if candidates is None or candidates.size > 65536:
            kth = np.partition(values, n - k)[n - k]
            above = np.flatnonzero(values > kth)
            ties = np.flatnonzero(values == kth)[: k - above.size]
            candidates = np.concatenate([above, ties])
    order = candidates[np.lexsort((candidates, -values[candidates]))]
    return order[:k]


def _summary(total, absdiff, rel, ulps, sigma, mask=None) -> dict:
    """
    Statistics of the differing pixels of one subset; maxima over finite pairs only.

    ``mask`` (bool, same length) selects the subset: its values are gathered
    first, faster than masked reductions over all of them.
    """
    inf = np.inf
    if mask is not None:
        keep = np.flatnonzero(mask)
        absdiff, rel, ulps, sigma = (x[keep] for x in (absdiff, rel, ulps, sigma))
    nonfinite = absdiff == inf
    n_differ = int(absdiff.size)
    n_nonfinite = int(np.count_nonzero(nonfinite))
    out = dict(
        n_pixels=total,
        n_differ=n_differ,
        n_nonfinite_mismatch=n_nonfinite,
        max_abs_diff=0.0,
        max_rel_diff=0.0,
        max_ulp=0,
        max_sigma=0.0,
    )
    if n_differ > n_nonfinite == 0:
        out.update(
            max_abs_diff=float(np.max(absdiff)),
            max_rel_diff=float(np.max(rel)),
            max_ulp=int(np.max(ulps)),
            max_sigma=float(np.fmax.reduce(sigma)),  # NaN (no ERR) only where all are
        )
    elif n_differ > n_nonfinite:
        finite = ~nonfinite
        has_sigma = finite & ~np.isnan(sigma)
        out.update(
            max_abs_diff=float(np.max(absdiff, where=finite, initial=0.0)),
            max_rel_diff=float(np.max(rel, where=finite, initial=0.0)),
            max_ulp=int(np.max(ulps, where=finite, initial=0)),
            max_sigma=float(np.max(sigma, where=has_sigma, initial=-inf))
            if has_sigma.any()
            else float("nan"),
        )
    return out


def _identical(shape, n, confusion, flagged_flat, has_err, integer=False) -> FloatComparison:
    n_flagged = 0 if flagged_flat is None else int(np.count_nonzero(flagged_flat))
    subsets = {
        name: _summary(total, np.empty(0), np.empty(0), np.empty(0, np.int64), np.empty(0))
        for name, total in (("all", n), ("good", n - n_flagged), ("flagged", n_flagged))
    }
    return FloatComparison(
        shape=shape,
        n_pixels=n,
        n_differ=0,
        n_outside=0,
        max_abs_diff=0.0,
        max_rel_diff=0.0,
        max_ulp=0,
        max_sigma=0.0,
        ulp_histogram=(0,) * (len(ULP_BINS) + 1),
        rel_ladder=(0.0,) * len(REL_LADDER),
        sigma_ladder=(0.0,) * len(SIGMA_LADDER) if has_err else (),
        nonfinite=tuple(tuple(int(c) for c in row) for row in confusion),
        nonfinite_mismatch=0,
        subsets=subsets,
        worst=(),
        integer=integer,
    )


def _per_bit_counts(hist: np.ndarray) -> np.ndarray:
    """Pixels with each of the 16 bits set, from a histogram of 16-bit words; int64, shape (16,)."""
    present = np.flatnonzero(hist)
    has_bit = (present[:, None] >> np.arange(16)) & 1
    return (has_bit * hist[present][:, None]).sum(axis=0)


def _as_uint16(values: np.ndarray) -> np.ndarray:
    """The same bits as unsigned 16-bit words: a view of 16-bit integers (either byte order)."""
    if values.dtype.itemsize == 2 and values.dtype.kind in "iu":
        return values.view(np.dtype(np.uint16).newbyteorder(values.dtype.byteorder))
    return values.astype(np.uint16)


def compare_dq(a: np.ndarray, b: np.ndarray) -> DQComparison:
    """
    Compare two DQ arrays bit by bit (no tolerance).

    Parameters
    ----------
    a, b : ndarray of int16 (or any 16-bit integer)
        Same shape.

    Returns
    -------
    DQComparison
        For every bit set anywhere: pixels with it only in a, only in b, in both.
    """
    ua, ub = (_as_uint16(x).ravel() for x in (a, b))
    xor = ua ^ ub
    n_differ = int(np.count_nonzero(xor))
    # Histograms of the 16-bit words: every per-bit count from the few words present.
    hist_a = np.bincount(ua, minlength=65536)
    per_bit_a = _per_bit_counts(hist_a)
    if n_differ:
        per_bit_b = _per_bit_counts(np.bincount(ub, minlength=65536))
        per_bit_both = _per_bit_counts(np.bincount(ua & ub, minlength=65536))
    else:  # the same words: every bit is in both
        per_bit_b = per_bit_both = per_bit_a
    bits, first = {}, {}
    width = a.shape[-1] if a.ndim else 1
    for k in range(16):
        bit = 1 << k
        in_a, in_b, both = int(per_bit_a[k]), int(per_bit_b[k]), int(per_bit_both[k])
        if in_a or in_b:
            bits[bit] = (in_a - both, in_b - both, both)
            if in_a != both or in_b != both:
                idx = int(np.flatnonzero(xor & bit)[0])
                row, col = divmod(idx, width)
                first[bit] = (col + 1, row + 1)
    return DQComparison(
        shape=a.shape, n_pixels=int(ua.size), n_differ=n_differ, bits=bits, first=first
    )
