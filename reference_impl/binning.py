"""Cut, bin and expand reference images to fit the science pixels (spec §7, §10).

hstcal ``pkg/stis/lib/bin2d.c``, ``unbin2d.c``, ``cs1/findbin.c``,
``getcorner.c``. Pure array arithmetic; the decision which reference needs
which treatment is made by ``io/reffiles.py``.
"""

import numpy as np

from reference_impl.errors import ShapeMismatchError
from reference_impl.geometry import Placement
from reference_impl.imset import Imset, readonly_view
from reference_impl.numerics import row_blocks, sqrt_f32

__all__ = ["bin_block", "match_reference", "expand_bilinear", "expand_bilinear_blocks"]


def bin_block(
    ref: Imset, *, x0: int, y0: int, bin_x: int, bin_y: int, shape: tuple[int, int], average: bool
) -> Imset:
    """
    Extract a subset of a reference imset and bin it (bin2d.c).

    Parameters
    ----------
    ref : Imset
        Reference SCI, ERR (float32) and DQ (int16).
    x0, y0 : int
        Zero-based first reference pixel of output pixel (0, 0).
    bin_x, bin_y : int
        Reference pixels per output pixel on each axis.
    shape : tuple of int
        Output shape ``(ny, nx)``.
    average : bool
        True to average (flats, shading), False to sum (bias, dark).

    Returns
    -------
    Imset
        SCI the float32 sum (or ``f32(sum / N)``); ERR ``f32(sqrt(f64(sum e*e)))``
        (divided by N in double when averaging); DQ the OR over each block.

    Raises
    ------
    ShapeMismatchError
        If the block reaches outside the reference.

    Notes
    -----
    The sums are sequential float32 over the block in row-major order, as
    the C loops accumulate them; a 1x1 "bin" is the window itself (read-only
    views, no copy).
    """
    ny, nx = shape
    rny, rnx = ref.sci.shape
    if x0 < 0 or y0 < 0 or x0 + nx * bin_x > rnx or y0 + ny * bin_y > rny:
        raise ShapeMismatchError(
            f"reference image ({rnx} x {rny}) does not cover the science pixels "
            f"(start [{x0 + 1}, {y0 + 1}], {nx} x {ny} pixels binned {bin_x} x {bin_y})"
        )
    if bin_x == 1 and bin_y == 1:
        win = (slice(y0, y0 + ny), slice(x0, x0 + nx))
        return Imset(*(readonly_view(a[win]) for a in ref))

    sci_sum = np.zeros(shape, dtype=np.float32)
    err_sum = np.zeros(shape, dtype=np.float32)
    dq_or = np.zeros(shape, dtype=np.int16)
    for dy in range(bin_y):
        for dx in range(bin_x):
            win = (
                slice(y0 + dy, y0 + dy + ny * bin_y, bin_y),
                slice(x0 + dx, x0 + dx + nx * bin_x, bin_x),
            )
            sci_sum += ref.sci[win]
            e = ref.err[win]
            err_sum += e * e
            dq_or |= ref.dq[win]
    if average:
        weight = np.float32(bin_x * bin_y)
        sci = (sci_sum / weight).astype(np.float32)
        err = (np.sqrt(err_sum.astype(np.float64)) / np.float64(weight)).astype(np.float32)
    else:
        sci = sci_sum
        err = np.sqrt(err_sum.astype(np.float64)).astype(np.float32)
    return Imset(sci, err, dq_or)


def match_reference(
    ref: Imset,
    ref_place: Placement,
    sci_place: Placement,
    sci_shape: tuple[int, int],
    *,
    average: bool,
    what: str,
) -> Imset:
    """
    Cut (and bin) a reference image to cover the science pixels (findbin.c + bin2d.c).

    Parameters
    ----------
    ref : Imset
        Imset 1 of the reference file.
    ref_place, sci_place : Placement
        Binning and corner of each, from their ``LTV``/``LTM``.
    sci_shape : tuple of int
        Science shape ``(ny, nx)``.
    average : bool
        Average over a bin (flats) rather than sum (bias, dark).
    what : str
        The reference kind and file, for messages ("bias image x_bia.fits").

    Returns
    -------
    Imset
        Reference arrays of shape ``sci_shape``.

    Raises
    ------
    ShapeMismatchError
        When the reference is binned more than the science (REF_TOO_SMALL),
        the bin ratio is not an integer, or the science pixels are not inside
        the reference (calstis exits with an error in each case).
    """
    if (ref_place == sci_place) and ref.sci.shape == sci_shape:
        return Imset(*(readonly_view(a) for a in ref))
    starts, ratios = [], []
    for axis, name in ((0, "x"), (1, "y")):
        r_ax = ref_place.x if axis == 0 else ref_place.y
        s_ax = sci_place.x if axis == 0 else sci_place.y
        if r_ax.bin > s_ax.bin:
            raise ShapeMismatchError(
                f"{what} is binned {r_ax.bin} on {name}, more than the science data ({s_ax.bin})"
            )
        if s_ax.bin % r_ax.bin:
            raise ShapeMismatchError(
                f"{what} binning {r_ax.bin} on {name} does not divide the science binning "
                f"{s_ax.bin}"
            )
        ratios.append(s_ax.bin // r_ax.bin)
        # C integer division truncates toward zero.
        starts.append(int((s_ax.corner - r_ax.corner) / r_ax.bin))
    try:
        return bin_block(
            ref,
            x0=starts[0],
            y0=starts[1],
            bin_x=ratios[0],
            bin_y=ratios[1],
            shape=sci_shape,
            average=average,
        )
    except ShapeMismatchError as err:
        raise ShapeMismatchError(f"{what}: {err}") from None


def _interp_info(n_out: int, n_in: int, factor: int):
    """Indices and float32 weights for linear interpolation along one axis (InterpInfo)."""
    f32 = np.float32
    offset = f32(f32(factor - 1) / f32(2.0))
    a = ((np.arange(n_out, dtype=f32) - offset).astype(f32) / f32(factor)).astype(f32)
    i = np.trunc(a).astype(np.int64)
    i = np.where(i < 0, 0, i)
    i = np.where(i >= n_in - 1, n_in - 2, i)
    q = (a - i.astype(f32)).astype(f32)
    p = (f32(1.0) - q).astype(f32)
    return a, i, p, q


def _interp_dq_info(a: np.ndarray, n_in: int):
    """Indices for OR-ing DQ along one axis (InterpDQInfo): ``(i1, i2, use_both)``."""
    i1 = np.trunc(a).astype(np.int64)
    both = a != i1.astype(np.float32)
    both = np.where(i1 <= 0, False, both)
    i1 = np.where(i1 <= 0, 0, i1)
    both = np.where(i1 >= n_in - 1, False, both)
    i1 = np.where(i1 >= n_in - 1, n_in - 1, i1)
    i2 = np.where(both, i1 + 1, i1)
    return i1, i2


def expand_bilinear(low: Imset, shape: tuple[int, int]) -> Imset:
    """
    Expand a binned (low-order) flat to ``shape`` by linear interpolation (unbin2d.c).

    Parameters
    ----------
    low : Imset
        The LFLT imset, float32, shape (ny_in, nx_in).
    shape : tuple of int
        Output shape; each axis must be an integer multiple of the input's.

    Returns
    -------
    Imset
        Expanded SCI, ERR (float32) and DQ (int16).

    Notes
    -----
    Output pixel ``m`` maps to input position ``a = (m - (b-1)/2)/b`` (float32);
    ``i = trunc(a)`` clamped to ``[0, n-2]``, ``q = a - i``, ``p = 1 - q``: at
    the edges this extrapolates linearly. SCI is
    ``p*r*A00 + q*r*A10 + p*s*A01 + q*s*A11`` evaluated left to right in
    float32. ERR uses the weights unsquared, ``sqrt(p*r*e00*e00 + ...)``
    (again left to right), which can go NaN with extrapolation weights;
    calstis does the same (spec §10). DQ is the OR of the neighbouring
    pixels, with calstis's bug reproduced: in the 2-D case the y neighbours
    are those of the *last* output row for every row. Built from
    `expand_bilinear_blocks`.
    """
    ny, nx = shape
    out_sci = np.empty((ny, nx), dtype=np.float32)
    out_err = np.empty((ny, nx), dtype=np.float32)
    out_dq = np.empty((ny, nx), dtype=np.int16)
    for rows, block in expand_bilinear_blocks(low, shape):
        out_sci[rows], out_err[rows], out_dq[rows] = block
    return Imset(out_sci, out_err, out_dq)


def expand_bilinear_blocks(low: Imset, shape: tuple[int, int]):
    """
    Yield `expand_bilinear`'s output block by block: ``(rows, Imset of those rows)``.

    For callers that use the expanded flat once, a block at a time (FLATCORR
    multiplies it into P x D), so that it never exists as a whole image.
    Same arguments, same numbers and errors as `expand_bilinear`; the blocks
    cover the output rows in order.
    """
    ny_in, nx_in = low.sci.shape
    ny, nx = shape
    if nx % nx_in or ny % ny_in:
        raise ShapeMismatchError(
            f"low-order flat ({nx_in} x {ny_in}) does not divide the flat size ({nx} x {ny})"
        )
    bx, by = nx // nx_in, ny // ny_in
    if bx == 1 and by == 1:
        for rows in row_blocks(ny):
            yield rows, Imset(*(readonly_view(a[rows]) for a in low))
        return
    f32 = np.float32
    a_sci, a_err, a_dq = low.sci.astype(f32), low.err.astype(f32), low.dq.astype(np.int16)
    ax, ix, p, q = _interp_info(nx, nx_in, bx)
    ay, jy, r, s = _interp_info(ny, ny_in, by)
    dx1, dx2 = _interp_dq_info(ax, nx_in)
    dy1, dy2 = _interp_dq_info(ay, ny_in)

    # Every operand below is float32, so each product and sum is rounded to
    # float32 as the C evaluates it, left to right.
    def sq_weighted(w, e):
        # C evaluates w * e1*e1 as (w*e1)*e1.
        return (w * e) * e

    def expand_rows(rows: slice):
        """SCI and variance of output rows ``rows`` (every term per pixel)."""
        if bx == 1:
            rr, ss = r[rows, None], s[rows, None]
            j = jy[rows]
            sci = (rr * a_sci[j, :]) + (ss * a_sci[j + 1, :])
            var = sq_weighted(rr, a_err[j, :]) + sq_weighted(ss, a_err[j + 1, :])
        elif by == 1:
            pp, qq = p[None, :], q[None, :]
            sci = (pp * a_sci[rows][:, ix]) + (qq * a_sci[rows][:, ix + 1])
            var = sq_weighted(pp, a_err[rows][:, ix]) + sq_weighted(qq, a_err[rows][:, ix + 1])
        else:
            rr, ss = r[rows, None], s[rows, None]
            pr = p[None, :] * rr
            qr = q[None, :] * rr
            ps = p[None, :] * ss
            qs = q[None, :] * ss
            # The low-order rows this block reads, their columns gathered once
            # for the block (ny / by rows of full width would be 4 MB).
            lo = int(jy[rows].min())
            j0 = jy[rows] - lo
            j1 = j0 + 1
            near = slice(lo, int(j1.max()) + lo + 1)
            sci_i0, sci_i1 = a_sci[near][:, ix], a_sci[near][:, ix + 1]
            err_i0, err_i1 = a_err[near][:, ix], a_err[near][:, ix + 1]
            # a[j, i] for the block, gathered from the column-gathered rows.
            sci = (pr * sci_i0[j0]) + (qr * sci_i1[j0])
            sci = sci + (ps * sci_i0[j1])
            sci = sci + (qs * sci_i1[j1])
            var = sq_weighted(pr, err_i0[j0]) + sq_weighted(qr, err_i1[j0])
            var = var + sq_weighted(ps, err_i0[j1])
            var = var + sq_weighted(qs, err_i1[j1])
        return sci, var

    if bx == 1:
        dq = a_dq[dy1, :] | a_dq[dy2, :]
    elif by == 1:
        dq = a_dq[:, dx1] | a_dq[:, dx2]
    else:
        # calstis bug: the y neighbours of the last output row serve every row.
        y1, y2 = dy1[-1], dy2[-1]
        row = a_dq[y1, dx1] | a_dq[y1, dx2] | a_dq[y2, dx1] | a_dq[y2, dx2]
        dq = np.broadcast_to(row, (ny, nx))
    # Block by block: the weights and gathered neighbours are block-sized.
    for rows in row_blocks(ny):
        with np.errstate(invalid="ignore"):
            sci, var = expand_rows(rows)
            err = sqrt_f32(var)
        yield rows, Imset(np.asarray(sci, dtype=f32), err, np.ascontiguousarray(dq[rows], np.int16))
