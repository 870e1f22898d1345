"""CRCORR: cosmic-ray rejection of CR-SPLIT imsets into one combined image (spec §12).

hstcal ``pkg/stis/lib/cs2/`` (calstis2): ``crrej_sky.c``/``cr_mode.c`` (sky),
``crrej_init.c`` (initial guess), ``crrej_loop.c`` (iterations, masks),
``crrej_do.c`` (output). Everything is float32 in calstis's operation order.

Quirks reproduced on purpose:

* The median initial guess ignores DQ flags entirely (hstcal issue #307): a
  saturated or bad pixel in one imset still enters the median.
* The final variance's SCALENSE term uses the sky-*included* value, while the
  thresholds use the sky-subtracted one.
* A bad-input (BADINPDQ) pixel spilled by an earlier hit in raster order loses
  its exclusion and can itself become a hit.
* cs0.e segfaults in CR rejection when every DQ value is zero (e.g. BLEVCORR +
  CRCORR without DQICORR); this implementation does not crash and gives the
  product the algorithm defines.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from reference_impl import dqflags
from reference_impl.numerics import BLOCK_ROWS, positive_part, row_blocks, select
from reference_impl.types import CRRejectParameters, parse_sigmas  # noqa: F401 (re-exported)

__all__ = [
    "CRRejectParameters",
    "CRRejectResult",
    "exposure_weighted_temperature",
    "noise_and_gain",
    "parse_sigmas",
    "reject_cosmic_rays",
    "sky_mode",
    "stack_exposure_times",
]

#: float32, the type of every CR-rejection quantity. ``.astype(_F, copy=False)``
#: marks each rounding to float32 of the C code; on a result numpy already
#: computed in float32 it is a no-op, not a copy.
_F = np.float32
MIN_SKY_DN = -1000


@dataclass(frozen=True)
class CRRejectResult:
    """The combined image and what calstis2 reports about it.

    Attributes
    ----------
    sci : ndarray of float32
        Sum over the whole exposure time in DN, sky added back.
    err : ndarray of float32
        Its uncertainty, DN.
    dq : ndarray of int16
        OR of the inputs (8192 removed), plus 8192 where every imset was rejected.
    input_dq : ndarray of int16, shape (n, ny, nx)
        Each input's DQ with this run's CR flags (when CRMASK), else unchanged.
    sky_dn : ndarray of float32
        Sky of each imset, DN.
    skysum_dn : numpy.float32
        Sum of the skies.
    n_rejected : int
        HIT + SPILL pixels over all imsets in the last iteration.
    texpt_s : numpy.float32
        Exposure time the rate is scaled to (``n`` when every EXPTIME is 0).
    exptot_s : numpy.float32
        Sum of the EXPTIMEs.
    """

    sci: NDArray[np.float32]
    err: NDArray[np.float32]
    dq: NDArray[np.int16]
    input_dq: NDArray[np.int16]
    sky_dn: NDArray[np.float32]
    skysum_dn: np.float32
    n_rejected: int
    texpt_s: np.float32
    exptot_s: np.float32


def _cr_mode(hist: NDArray[np.int64], hmin: float) -> np.float32:
    """The histogram's mode with parabolic interpolation (spec §12.3, cr_mode.c), 1-DN bins."""
    nbins = hist.size
    hwidth = 1.0
    hmin = float(_F(hmin))
    if nbins == 1:
        return _F(hmin + 0.5 * hwidth)
    if nbins == 2:
        if hist[0] > hist[1]:
            return _F(hmin + 0.5 * hwidth)
        if hist[1] > hist[0]:
            return _F(hmin + 1.5 * hwidth)
        return _F(hmin + hwidth)
    bpeak = int(np.argmax(hist))  # first highest bin
    if bpeak == 0:
        return _F(hmin + 0.5 * hwidth)
    if bpeak == nbins - 1:
        return _F(hmin + (nbins - 0.5) * hwidth)
    dh1 = _F(hist[bpeak] - hist[bpeak - 1])
    dh2 = _F(hist[bpeak] - hist[bpeak + 1])
    denom = _F(dh1 + dh2)
    if abs(float(denom)) < 1e-20:
        return _F(hmin + (bpeak + 0.5) * hwidth)
    mode = _F(bpeak + 1 + 0.5 * float(_F(dh1 - dh2)) / float(denom))
    return _F(hmin + (float(mode) - 0.5) * hwidth)


def sky_mode(sci: NDArray[np.float32], dq: NDArray[np.int16]) -> np.float32:
    """
    Sky level of one imset: the mode of the DQ == 0 pixels (spec §12.3, crrej_sky.c).

    Parameters
    ----------
    sci : ndarray of float32
        Imset SCI, DN.
    dq : ndarray of int16
        Only pixels with DQ exactly 0 are used.

    Returns
    -------
    numpy.float32
        Sky in DN.

    Notes
    -----
    The histogram has 1-DN bins from ``trunc(min(0, min)) - 1`` (or -1000) to
    ``trunc(mean + 1) * 2``, the mean being a sequential float32 sum over the
    count; a value goes to bin ``trunc(value) - lo``. The DQ == 0 values are
    gathered once, a block of rows at a time (a spooled imset is read from
    disk once), and the float32 sum runs over them in raster order.
    """
    values = _good_values(sci, dq)
    count = values.size
    lowest = float(values.min()) if count else 0.0
    # min(0, NaN) is 0 in Python: a NaN anywhere gives amin 0.
    amin = 0.0 if np.isnan(lowest) else min(0.0, lowest)
    lo = MIN_SKY_DN if amin < MIN_SKY_DN else int(amin) - 1
    total = np.cumsum(values, dtype=_F)[-1] if count else _F(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        amax = _F(total / _F(count))
    hi = 1 if amax <= 0 else int(float(amax) + 1.0) * 2
    nbins = hi - lo + 1
    hist = np.zeros(nbins, dtype=np.int64)
    chunk = BLOCK_ROWS * sci.shape[1]
    for start in range(0, count, chunk):
        # float32 -> int64 truncates toward zero, as C's (int) does.
        h = values[start : start + chunk].astype(np.int64)
        h -= lo
        # As unsigned, a bin below 0 is above nbins too: every value outside
        # the histogram goes to one extra bin, dropped.
        np.minimum(h.view(np.uint64), nbins, out=h.view(np.uint64))
        hist += np.bincount(h, minlength=nbins + 1)[:nbins]
    return _cr_mode(hist, float(lo))


def _good_values(sci, dq) -> NDArray[np.float32]:
    """The float32 SCI values where DQ is 0, in raster order, reading each block of rows once."""
    ny, nx = sci.shape
    values = np.empty(ny * nx, dtype=_F)
    n = 0
    for rows in row_blocks(ny):
        good = sci[rows][dq[rows] == 0]
        values[n : n + good.size] = good
        n += good.size
    return values[:n]


def stack_exposure_times(exptimes_s) -> tuple[NDArray[np.float32], np.float32]:
    """
    EXPTIME of each usable imset as float32, and their total (spec §12.1).

    Returns
    -------
    tuple
        ``(exptime, exptot)``: float32 array, s, and its sequential float32 sum.
    """
    exptime = np.array([_F(e) for e in exptimes_s], dtype=_F)
    return exptime, np.cumsum(exptime, dtype=_F)[-1]


def noise_and_gain(readnse_e: float, atodgain: float, n: int) -> tuple[NDArray, NDArray]:
    """
    Per-imset read noise and gain as calstis2 takes them from the header (spec §12.1).

    Parameters
    ----------
    readnse_e, atodgain : float
        READNSE (electrons) and ATODGAIN (electrons per DN) of the primary header.
    n : int
        Number of usable imsets.

    Returns
    -------
    tuple of ndarray of float32, shape (n,)
        ``(noise_dn, gain_e_per_dn)`` with ``noise = f32(READNSE / ATODGAIN)``.
    """
    g32, r32 = _F(atodgain), _F(readnse_e)
    noise = _F(r32 / g32)
    return np.full(n, noise, dtype=_F), np.full(n, g32, dtype=_F)


def exposure_weighted_temperature(occdhtav_c, exptime: NDArray[np.float32]) -> np.float32:
    """
    ``Σ OCCDHTAV_k · efac_k`` in float32, -1 for an imset without it (spec §12.1, §12.6).

    Parameters
    ----------
    occdhtav_c : sequence of float or None
        OCCDHTAV of each usable imset, deg C (None when absent).
    exptime : ndarray of float32
        EXPTIME of each, s.
    """
    temptot = _F(0.0)
    for t, e in zip(occdhtav_c, exptime, strict=True):
        t32 = _F(-1.0) if t is None else _F(t)
        temptot = _F(temptot + _F(t32 * e))
    return temptot


def _circle_offsets(radius: np.float32) -> list[tuple[int, int]]:
    """Neighbour offsets ``(dj, di)`` within CRRADIUS (spec §12.5, crrej_loop.c)."""
    width = int(float(radius) + 1e-5)
    rej2 = _F(radius * radius)
    return [
        (dj, di)
        for dj in range(-width, width + 1)
        for di in range(-width, width + 1)
        if not float(di * di + dj * dj) > float(rej2)
    ]


def _shifted_any(mask: NDArray[np.bool_], offsets) -> NDArray[np.bool_]:
    """True where a pixel at one of ``offsets`` from it is True, in the image (spec §12.5).

    The CRRADIUS circle is, row by row, a run of columns ``-w..w``: the
    dilation is first along each row (one array per half-width), then
    across rows, in a few ORs instead of one per offset (4 against 9 for
    the 3 x 3 box of CRRADIUS 1.5). Offsets of any other shape go one by one.
    """
    widths = _row_half_widths(offsets)
    if widths is None:
        return _or_of_shifts(mask.shape, offsets, lambda _dj: mask)
    by_width = {0: mask}
    for w in range(1, max(widths.values()) + 1):
        wider = by_width[w - 1].copy()
        wider[:, w:] |= mask[:, :-w]
        wider[:, :-w] |= mask[:, w:]
        by_width[w] = wider
    return _or_of_shifts(mask.shape, [(dj, 0) for dj in widths], lambda dj: by_width[widths[dj]])


def _row_half_widths(offsets) -> dict | None:
    """``{dj: w}`` when each offset row ``dj`` is exactly the columns ``-w..w``, else None.

    None for no offsets at all (a negative CRRADIUS): nothing is a neighbour.
    """
    if not offsets:
        return None
    rows: dict = {}
    for dj, di in offsets:
        rows.setdefault(dj, set()).add(di)
    widths = {}
    for dj, columns in rows.items():
        w = max(columns)
        if columns != set(range(-w, w + 1)):
            return None
        widths[dj] = w
    return widths


def _or_of_shifts(shape: tuple, offsets, source):
    """OR over ``offsets`` of ``source(dj)`` shifted by ``(dj, di)``, clipped to the image."""
    ny, nx = shape
    out = np.zeros(shape, dtype=bool)
    for dj, di in offsets:
        if abs(dj) >= ny or abs(di) >= nx:
            continue  # shifted out of the image (a slice end would wrap around)
        src = source(dj)[max(dj, 0) : ny + min(dj, 0), max(di, 0) : nx + min(di, 0)]
        out[max(-dj, 0) : ny + min(-dj, 0), max(-di, 0) : nx + min(-di, 0)] |= src
    return out


def _hits(cond, spillable, excluded, offsets, earlier_hits):
    """HIT marks of some rows of one imset, in raster order (spec §12.5, crrej_loop.c).

    ``cond``, ``spillable`` and ``excluded`` cover the rows to mark;
    ``earlier_hits`` the final marks of the rows just above them (the rows a
    pixel's neighbourhood reaches back to). Non-excluded pixels above
    threshold are hits. An excluded pixel above threshold becomes a hit only
    if an earlier hit (raster order) spilled it, so those few are resolved one
    by one in raster order. Returns the marks of ``earlier_hits`` and the new
    rows stacked.
    """
    n_above = earlier_hits.shape[0]
    hit = np.concatenate([earlier_hits, cond & ~excluded])
    maybe = cond & excluded & spillable
    candidates = np.argwhere(maybe) if maybe.any() else ()
    if len(candidates):
        ny, nx = hit.shape
        for j, i in candidates:  # row-major order = raster order
            j = j + n_above
            for dj, di in offsets:
                jj, ii = j + dj, i + di
                if not (0 <= jj < ny and 0 <= ii < nx):
                    continue
                if (jj, ii) < (j, i) and hit[jj, ii]:
                    hit[j, i] = True
                    break
    return hit


def _minimum_guess(sci, sky, efac, noise, gain, scale):
    """INITGUES = minimum (spec §12.4, crrej_init.c): the smallest rate and its variance.

    Per imset ``pic = (SCI - sky) / efac`` and ``var = (noise² + max(SCI, 0)/gain
    + (scale·max(SCI - sky, 0))²) / efac²``, each operation rounded to
    float32; the first imset with the smallest ``pic`` gives both.
    """
    n = len(sci)
    shape = sci[0].shape
    ave = np.empty(shape, dtype=_F)
    avevar = np.empty(shape, dtype=_F)
    for rows in row_blocks(shape[0]):
        ave_rows, avevar_rows = ave[rows], avevar[rows]
        for k in range(n):
            pic, var = _minimum_guess_terms(sci[k][rows], sky[k], efac[k], noise[k], gain[k], scale)
            if k == 0:
                ave_rows[...], avevar_rows[...] = pic, var
            else:
                take = pic < ave_rows
                select(take, pic, ave_rows, out=ave_rows)
                select(take, var, avevar_rows, out=avevar_rows)
    return ave, avevar


def _minimum_guess_terms(raw, sky, efac, noise, gain, scale):
    """``(pic, var)`` of one imset on some rows for `_minimum_guess`, float32.

    The two ``max(x, 0)`` are `positive_part`, whose results are squared or
    added to ``noise²``.
    """
    signal = np.subtract(raw, sky, dtype=_F)
    pic = np.divide(signal, efac, dtype=_F)
    positive_part(signal, out=signal)
    np.multiply(signal, scale, out=signal)
    np.multiply(signal, signal, out=signal)  # (scale·signal0)²
    var = positive_part(raw)
    np.divide(var, gain, out=var)
    np.add(var, _F(noise * noise), out=var)  # noise² + raw0/gain
    np.add(var, signal, out=var)
    np.divide(var, _F(efac * efac), out=var)
    return pic, var


def _median_guess(sci, sky, efac):
    """INITGUES = median (spec §12.4, crrej_init.c): per pixel, over the imsets, ignoring DQ."""
    n = len(sci)
    shape = sci[0].shape
    ave = np.empty(shape, dtype=_F)
    for rows in row_blocks(shape[0]):
        pics = [((sci[k][rows] - sky[k]) / efac[k]).astype(_F, copy=False) for k in range(n)]
        if n == 2:
            # The two middle values of two are the two values; float32 addition
            # commutes, so their order does not matter.
            ave[rows] = ((pics[0] + pics[1]) / _F(2.0)).astype(_F, copy=False)
            continue
        middle = _middle_values(pics)
        if len(middle) == 1:
            ave[rows] = middle[0]
        else:
            ave[rows] = ((middle[0] + middle[1]) / _F(2.0)).astype(_F, copy=False)
    return ave


def _middle_values(pics: list) -> list:
    """
    The middle one (odd n) or two (even n) of n float32 arrays, per pixel, as sorted.

    Without NaN, an odd-even transposition network of ``np.minimum`` and
    ``np.maximum`` (n rounds sort n values): the sorted values as numbers, at
    a fraction of the cost of ``np.sort`` along an axis of length n (41 of
    285 ms of a CRSPLIT = 4 run). Only where +0 and -0 tie may the sign of a
    zero differ from a sort's; the guess enters the rejection through
    ``a·efac + sky`` (the sky is never -0) and ``(pic - a)²``, and the last
    iteration replaces it everywhere, so that sign cannot reach a product.
    A block holding a NaN is sorted by ``np.sort``, NaN last, as before.
    """
    n = len(pics)
    mid = [n // 2] if n % 2 else [n // 2 - 1, n // 2]
    if any(np.isnan(p).any() for p in pics):
        ordered = np.sort(np.stack(pics, axis=-1), axis=-1)
        return [ordered[..., m] for m in mid]
    values = list(pics)
    for round_ in range(n):
        for j in range(round_ % 2, n - 1, 2):
            values[j], values[j + 1] = (
                np.minimum(values[j], values[j + 1]),
                np.maximum(values[j], values[j + 1]),
            )
    return [values[m] for m in mid]


@dataclass(frozen=True)
class _Stack:
    """The inputs of one rejection and the per-imset constants every iteration uses.

    ``sci``, ``dq``: the imsets (DN, DQ bits); ``efac``, ``noise``, ``gain``,
    ``sky``: per imset (s, DN, e/DN, DN), float32; ``scale``: SCALENSE / 100;
    ``psig2``: CRTHRESH² (-1 when CRTHRESH <= 0); ``offsets``: the CRRADIUS
    circle, ``reach`` its half-height in rows; ``texpt``: the time the output
    is scaled to (s).
    """

    sci: list
    dq: list
    efac: NDArray[np.float32]
    noise: NDArray[np.float32]
    gain: NDArray[np.float32]
    sky: NDArray[np.float32]
    scale: np.float32
    badinpdq: np.int16
    psig2: np.float32
    offsets: list
    reach: int
    texpt: np.float32
    is_minimum: bool
    crmask: bool


@dataclass
class _Outputs:
    """The image-sized outputs, filled block by block in the last iteration."""

    dq: NDArray[np.int16]
    err: NDArray[np.float32]
    input_dq: NDArray[np.int16] | None


@dataclass
class _BlockSums:
    """The accumulators of one block of rows over the imsets (spec §12.5).

    ``sumvar`` and ``merged_dq`` exist in the last iteration only.
    """

    total: NDArray[np.float32]
    efacsum: NDArray[np.float32]
    sumvar: NDArray[np.float32] | None
    merged_dq: NDArray[np.int16] | None


_CRFLAG = np.int16(dqflags.DATAREJECT)
_NOCR = np.int16(~dqflags.DATAREJECT)


def _exposure_scaling(exptime_s, n: int) -> tuple[NDArray[np.float32], np.float32, np.float32]:
    """``(efac, texpt, exptot)`` from the EXPTIMEs (spec §12.1, ``cr_scaling.c``).

    All zero: every ``efac`` is 1 and ``texpt = n``; else ``texpt = exptot``,
    the sequential float32 sum.
    """
    efac = np.asarray(exptime_s, dtype=_F).copy()
    exptot = np.cumsum(efac, dtype=_F)[-1]
    if exptot == 0:
        efac[:] = _F(1.0)
        texpt = _F(n)
    else:
        texpt = _F(exptot)
    return efac, texpt, exptot


def _sky_levels(sci, dq, skysub: str) -> NDArray[np.float32]:
    """Sky of each imset, DN: the DQ == 0 mode for SKYSUB = mode, else 0 (spec §12.3)."""
    n = len(sci)
    if skysub == "mode":
        return np.array([sky_mode(sci[k], dq[k]) for k in range(n)], dtype=_F)
    return np.zeros(n, dtype=_F)


def _initial_guess(stack: _Stack):
    """``(ave, avevar)``: the initial mean rate and, for minimum, its variance (spec §12.4).

    INITGUES = median leaves ``avevar`` None (it is not needed).
    """
    if stack.is_minimum:
        return _minimum_guess(
            stack.sci, stack.sky, stack.efac, stack.noise, stack.gain, stack.scale
        )
    return _median_guess(stack.sci, stack.sky, stack.efac), None


def _iteration_thresholds(stack: _Stack, k: int, a, avevar, sig2, *, first_minimum: bool):
    """
    HIT and SPILL thresholds of imset ``k`` on some rows (spec §12.5, "Threshold").

    Parameters
    ----------
    a : ndarray of float32
        ``ave`` on those rows (the previous iteration's mean rate, DN/s).
    avevar : ndarray of float32 or None
        The minimum guess's variance on those rows (read in its first iteration only).
    sig2 : numpy.float32
        This iteration's CRSIGMAS value squared.
    first_minimum : bool
        First iteration with INITGUES = minimum: ``thr = spthr = σ²·avevar``.

    Returns
    -------
    tuple of ndarray of float32
        ``(thresh, spthresh)``, (DN/s)².
    """
    if first_minimum:
        thresh = (sig2 * avevar).astype(_F, copy=False)
        return thresh, thresh
    sky, efac, gain, scale = stack.sky[k], stack.efac[k], stack.gain[k], stack.scale
    rog2 = _F(stack.noise[k] * stack.noise[k])
    exp2 = _F(efac * efac)
    # In place, each operation rounded to float32 as in the C; max(x, 0) is
    # `positive_part` (both are squared or added to rog2, a square).
    dum = np.multiply(a, efac, dtype=_F)
    np.add(dum, sky, out=dum)  # dum = a·efac + sky
    sp = np.subtract(dum, sky, dtype=_F)
    positive_part(sp, out=sp)  # pixsky = max(dum - sky, 0)
    np.multiply(sp, scale, out=sp)
    np.multiply(sp, sp, out=sp)  # (scale·pixsky)²
    base = positive_part(dum, out=dum)  # val = max(dum, 0)
    np.divide(base, gain, out=base)
    np.add(base, rog2, out=base)  # base = rog2 + val/gain
    thresh = np.add(base, sp, out=sp)
    np.multiply(thresh, sig2, out=thresh)
    np.divide(thresh, exp2, out=thresh)  # sig2·(base + sp²) / exp2
    spthresh = np.multiply(base, sig2, out=base)
    np.divide(spthresh, exp2, out=spthresh)  # sig2·base / exp2
    return thresh, spthresh


def _mark_rejected(stack: _Stack, k: int, ext: slice, n_own: int, a, thresholds, carried: list):
    """
    Mark imset ``k``'s HIT and SPILL pixels on a block of rows (spec §12.5, raster order).

    ``ext`` are the block's rows plus ``reach`` rows below it, ``n_own`` the
    block's own; ``carried[k]`` holds the final HIT marks of the rows just
    above the block and is replaced by those of this block's last rows.

    Returns
    -------
    tuple
        ``(pic, rejected, excluded)`` on the block's own rows: the imset's rate
        ``f32((SCI - sky) / efac)`` (DN/s), HIT or SPILL, and BADINPDQ-excluded.
    """
    thresh, spthresh = thresholds
    sky, efac = stack.sky[k], stack.efac[k]
    pic = np.subtract(stack.sci[k][ext], sky, dtype=_F)
    np.divide(pic, efac, out=pic)
    d2 = np.subtract(pic, a, dtype=_F)
    np.multiply(d2, d2, out=d2)
    cond = d2 > thresh
    spillable = ~(d2 <= np.multiply(spthresh, stack.psig2, dtype=_F))
    excluded = (stack.dq[k][ext] & stack.badinpdq) != 0
    hit = _hits(cond, spillable, excluded, stack.offsets, carried[k])
    above = carried[k].shape[0]
    own_hit = hit[above : above + n_own]
    spill = _spill_neighbours(hit, stack.offsets, above, n_own) & spillable[:n_own] & ~own_hit
    carried[k] = hit[max(above + n_own - stack.reach, 0) : above + n_own]
    return pic[:n_own], own_hit | spill, excluded[:n_own]


def _spill_neighbours(hit, offsets, above: int, n_own: int):
    """Neighbour expansion (spec §12.5): pixels within CRRADIUS of a HIT, on the block's rows.

    ``hit`` covers rows ``[r0 - above, r1 + reach)``; the result rows ``[r0, r1)``.
    """
    return _shifted_any(hit, offsets)[above : above + n_own]


def _accumulate_ok(sums: _BlockSums, stack: _Stack, k: int, pic, ok):
    """``sum += f32(pic·efac_k)`` and ``efacsum += efac_k`` where still OK (spec §12.5).

    Returns ``f32(pic·efac_k)`` (DN), which the last iteration uses again.
    """
    efac = stack.efac[k]
    scaled = np.multiply(pic, efac, dtype=_F)
    select(ok, np.add(sums.total, scaled, dtype=_F), sums.total, out=sums.total)
    # efac_k > 0 is finite, so adding ok·efac_k (0 where not OK) adds it only where OK.
    np.add(sums.efacsum, np.multiply(ok, efac, dtype=_F), out=sums.efacsum)
    return scaled


def _accumulate_last(sums: _BlockSums, stack: _Stack, k: int, scaled, ok, rejected, rows) -> None:
    """
    The last iteration's extra sums (spec §12.5, §12.6): ``sumvar`` and the merged DQ.

    ``sumvar += noise² + val/gain + (s·val)²`` with the sky-included
    ``val = max(pic·efac + sky, 0)`` where OK (``scaled`` is ``f32(pic·efac)``;
    ``max`` is `positive_part`, squared or added to ``noise²``). The output DQ
    ORs each input's DQ without 8192 and keeps 8192 only where every imset
    was rejected.
    """
    sky, gain = stack.sky[k], stack.gain[k]
    rog2 = _F(stack.noise[k] * stack.noise[k])
    val = np.add(scaled, sky, dtype=_F)
    positive_part(val, out=val)
    sv = np.multiply(val, stack.scale, dtype=_F)
    np.multiply(sv, sv, out=sv)
    term = np.divide(val, gain, out=val)
    np.add(term, rog2, out=term)
    np.add(term, sv, out=term)  # (rog2 + val/gain) + (s·val)²
    select(ok, np.add(sums.sumvar, term, out=term), sums.sumvar, out=sums.sumvar)
    np.bitwise_or(sums.merged_dq, stack.dq[k][rows] & _NOCR, out=sums.merged_dq)
    np.bitwise_and(sums.merged_dq, _cr_bit_where(rejected) | _NOCR, out=sums.merged_dq)


def _cr_bit_where(mask):
    """int16: 8192 (the CR bit) where ``mask``, else 0."""
    return np.multiply(mask, _CRFLAG, dtype=np.int16)


def _input_flags(stack: _Stack, k: int, rows: slice, rejected):
    """Imset ``k``'s DQ with this run's CR flags on ``rows`` (spec §12.7), as CRMASK says."""
    if not stack.crmask:
        return stack.dq[k][rows]
    return (stack.dq[k][rows] & _NOCR) | _cr_bit_where(rejected)


def _reject_block(stack: _Stack, ave, avevar, sig2, rows: slice, carried, *, it, last, outputs):
    """
    One iteration on one block of rows, every imset (spec §12.5; §12.6 in the last).

    Returns
    -------
    int
        HIT + SPILL pixels of the block over all imsets (counted in the last iteration only).
    """
    ny, nx = ave.shape
    r0, r1 = rows.start, rows.stop
    ext = slice(r0, min(r1 + stack.reach, ny))  # the rows marked: the block + reach
    n_own = r1 - r0
    sums = _BlockSums(
        np.zeros((n_own, nx), dtype=_F),
        np.zeros((n_own, nx), dtype=_F),
        np.zeros((n_own, nx), dtype=_F) if last else None,
        np.full((n_own, nx), _CRFLAG, dtype=np.int16) if last else None,
    )
    first_minimum = stack.is_minimum and it == 0
    n_rejected = 0
    for k in range(len(stack.sci)):
        a = ave[ext]
        var = avevar[ext] if first_minimum else None
        thresholds = _iteration_thresholds(stack, k, a, var, sig2, first_minimum=first_minimum)
        pic, rejected, excluded = _mark_rejected(stack, k, ext, n_own, a, thresholds, carried)
        ok = ~rejected & ~excluded
        scaled = _accumulate_ok(sums, stack, k, pic, ok)
        if last:
            _accumulate_last(sums, stack, k, scaled, ok, rejected, rows)
            n_rejected += int(np.count_nonzero(rejected))
            if outputs.input_dq is not None:
                outputs.input_dq[k][rows] = _input_flags(stack, k, rows, rejected)
    _update_mean_rate(ave, rows, sums, last=last)
    if last:
        outputs.dq[rows] = sums.merged_dq
        outputs.err[rows] = _combined_error(sums, stack.texpt)
    return n_rejected


def _update_mean_rate(ave, rows: slice, sums: _BlockSums, *, last: bool) -> None:
    """``ave = sum / efacsum`` where ``efacsum > 0`` (spec §12.5, after all imsets).

    Elsewhere ``ave`` keeps its value, except in the last iteration: 0 (the fill value).
    """
    good = sums.efacsum > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        new_ave = np.divide(sums.total, sums.efacsum, dtype=_F)  # replaced where not good
    if last:
        new_ave[~good] = _F(0)
        ave[rows] = new_ave
    else:
        select(good, new_ave, ave[rows], out=ave[rows])


def _combined_error(sums: _BlockSums, texpt: np.float32):
    """``ERR = texpt · (√sumvar / efacsum)``, 0 where ``efacsum = 0`` (spec §12.6), DN."""
    good = sums.efacsum > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        err_rate = (
            np.sqrt(sums.sumvar.astype(np.float64)) / sums.efacsum.astype(np.float64)
        ).astype(_F)  # replaced where not good
    err_rate[~good] = _F(0)
    return np.multiply(err_rate, texpt, out=err_rate)


def _final_combination(ave, stack: _Stack, exptot, outputs: _Outputs, n_rejected: int):
    """``SCI = ave·texpt + SKYSUM`` (spec §12.6), written into ``ave`` (this run's own array)."""
    skysum = np.cumsum(stack.sky, dtype=_F)[-1]
    out_sci = np.multiply(ave, stack.texpt, out=ave)
    np.add(out_sci, skysum, out=out_sci)
    return CRRejectResult(
        out_sci,
        outputs.err,
        outputs.dq,
        outputs.input_dq,
        stack.sky,
        _F(skysum),
        n_rejected,
        _F(stack.texpt),
        _F(exptot),
    )


def _prepare_stack(
    sci, dq, exptime_s, noise_dn, gain_e_per_dn, params
) -> tuple[_Stack, np.float32]:
    """The per-imset constants (spec §12.1, §12.2) and sky (§12.3); also ``exptot``, s."""
    efac, texpt, exptot = _exposure_scaling(exptime_s, len(sci))
    offsets = _circle_offsets(params.radius_pix)
    stack = _Stack(
        sci=sci,
        dq=dq,
        efac=efac,
        noise=np.asarray(noise_dn, dtype=_F),
        gain=np.asarray(gain_e_per_dn, dtype=_F),
        sky=_sky_levels(sci, dq, params.skysub),
        scale=_F(float(params.scalense_percent) / 100.0),
        badinpdq=np.int16(params.badinpdq),
        psig2=_F(-1.0) if params.thresh <= 0 else _F(params.thresh * params.thresh),
        offsets=offsets,
        reach=max((abs(dj) for dj, _ in offsets), default=0),  # rows a mark reaches
        texpt=texpt,
        is_minimum=params.initial[:3] != "med",
        crmask=bool(params.crmask),
    )
    return stack, exptot


def _iteration(stack: _Stack, ave, avevar, sigma, *, it: int, last: bool, outputs) -> int:
    """
    One CRSIGMAS iteration over every block of rows (spec §12.5).

    ``ave`` is updated in place block by block; returns the HIT + SPILL count
    over all imsets (0 before the last iteration).
    """
    ny, nx = ave.shape
    sig2 = _F(sigma * sigma)
    carried = [np.zeros((0, nx), dtype=bool) for _ in range(len(stack.sci))]
    n_rejected = 0
    for rows in row_blocks(ny):
        n_rejected += _reject_block(
            stack, ave, avevar, sig2, rows, carried, it=it, last=last, outputs=outputs
        )
    return n_rejected


def reject_cosmic_rays(
    sci,
    dq,
    *,
    exptime_s: NDArray[np.float32],
    noise_dn: NDArray[np.float32],
    gain_e_per_dn: NDArray[np.float32],
    params: CRRejectParameters,
    flag_inputs: bool = True,
) -> CRRejectResult:
    """
    Combine a CR-SPLIT stack, rejecting cosmic rays (calstis2, spec §12).

    Parameters
    ----------
    sci : ndarray of float32, shape (n, ny, nx), or a sequence of n (ny, nx) arrays
        SCI of the usable imsets (IMSET_OK not F), DN, after part-a calibration.
    dq : ndarray of int16, shape (n, ny, nx), or a sequence of n (ny, nx) arrays
        Their DQ arrays.
    exptime_s : ndarray of float32, shape (n,)
        EXPTIME of each imset (all zero means equal weights).
    noise_dn : ndarray of float32, shape (n,)
        Read noise in DN, ``f32(READNSE / ATODGAIN)`` from the header values.
    gain_e_per_dn : ndarray of float32, shape (n,)
        ATODGAIN of each imset.
    params : CRRejectParameters
        The selected CRREJTAB row.
    flag_inputs : bool
        Return each input's DQ with the CR flags (``input_dq``); False leaves
        ``input_dq`` None, for callers that do not use it.

    Returns
    -------
    CRRejectResult
        The combined image, per-imset CR flags and bookkeeping.

    Notes
    -----
    The steps: exposure scaling (§12.1), sky (§12.3), initial guess (§12.4),
    then per CRSIGMAS value the thresholds, HIT/SPILL marks and new mean rate
    (§12.5; every imset is compared with the previous iteration's ``ave``),
    and the combination (§12.6, §12.7).

    The work goes over blocks of rows, every imset of a block before the
    next block, with float32 temporaries the size of a block: only ``ave``,
    the outputs and per-block sums are image-sized. That is exact because
    every quantity is per pixel except the HIT/SPILL marks: a pixel's HIT
    depends on its own row and the rows above it (raster order), its SPILL on
    the HITs up to the CRRADIUS box below it. So each block marks its rows
    plus that many rows below, carrying the final marks of the rows above
    from the block before, and ``ave`` of a block's rows is replaced only
    once no later block reads it (the rows below are read before they are
    replaced, by their own block).
    """
    n = len(sci)
    if n < 2:
        raise ValueError("cosmic-ray rejection needs two or more usable imsets")
    ny, nx = sci[0].shape
    stack, exptot = _prepare_stack(sci, dq, exptime_s, noise_dn, gain_e_per_dn, params)
    ave, avevar = _initial_guess(stack)
    outputs = _Outputs(
        np.empty((ny, nx), dtype=np.int16),
        np.empty((ny, nx), dtype=_F),
        np.empty((n, ny, nx), dtype=np.int16) if flag_inputs else None,
    )
    n_rejected = 0
    for it, sigma in enumerate(params.sigmas):
        last = it == len(params.sigmas) - 1
        n_rejected = _iteration(stack, ave, avevar, sigma, it=it, last=last, outputs=outputs)
    return _final_combination(ave, stack, exptot, outputs, n_rejected)
