"""STATFLAG against a line-by-line transcription of hstcal's dostat.c loop."""

import numpy as np
import pytest

from reference_impl.imset import Imset
from reference_impl.steps.statflag import compute_statistics

RNG = np.random.default_rng(11)


def _dostat(sci, err, dq, sdqflags):
    """dostat.c, as C runs it: double accumulators, first good pixel starts every sum."""
    n = 0
    for value, stddev, flag in zip(
        sci.ravel().tolist(), err.ravel().tolist(), dq.ravel().tolist(), strict=True
    ):
        if sdqflags & flag:
            continue
        if stddev <= 0.0:
            if value <= 0.0:
                snr = 0.0
            else:
                continue
        else:
            snr = value / stddev
        if n < 1:
            vsum = vmin = vmax = value
            esum = emin = emax = stddev
            ssum = smin = smax = snr
            n = 1
        else:
            vsum += value
            esum += stddev
            ssum += snr
            vmin = value if value < vmin else vmin
            vmax = value if value > vmax else vmax
            emin = stddev if stddev < emin else emin
            emax = stddev if stddev > emax else emax
            smin = snr if snr < smin else smin
            smax = snr if snr > smax else smax
            n += 1
    if n == 0:
        return (0,)
    f = np.float32
    return (n, f(vmin), f(vmax), f(vsum / n), f(smin), f(smax), f(ssum / n),
            f(emin), f(emax), f(esum / n))  # fmt: skip


def _ours(imset, sdqflags):
    s = compute_statistics(imset, sdqflags=sdqflags)
    if s.ngoodpix == 0:
        return (0,)
    return (s.ngoodpix, s.goodmin, s.goodmax, s.goodmean, s.snrmin, s.snrmax, s.snrmean,
            s.err_goodmin, s.err_goodmax, s.err_goodmean)  # fmt: skip


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        x, y = np.float64(x), np.float64(y)
        assert (np.isnan(x) and np.isnan(y)) or (x == y and np.signbit(x) == np.signbit(y)), (a, b)


def _frame(shape=(60, 70)):
    sci = RNG.normal(50, 400, shape).astype(np.float32)
    err = np.sqrt(np.abs(sci) + 9).astype(np.float32)
    dq = np.where(RNG.random(shape) < 0.05, 16, 0).astype(np.int16)
    return sci, err, dq


@pytest.mark.parametrize(
    "case",
    ["plain", "zero errors", "nan", "nan first", "signed zeros", "all flagged", "huge range"],
)
def test_statistics_equal_the_dostat_loop(case):
    sci, err, dq = _frame()
    if case == "zero errors":
        err.flat[::7] = 0.0
        err.flat[1::11] = -1.0
    elif case == "nan":
        sci.flat[100] = np.nan
        err.flat[200] = np.nan
    elif case == "nan first":
        dq.flat[0] = 0
        sci.flat[0] = np.nan
        err.flat[0] = np.nan
    elif case == "signed zeros":
        sci[:] = np.abs(sci)
        sci.flat[5:40:3] = -0.0
        sci.flat[6:40:3] = 0.0
        err.flat[7] = -0.0
    elif case == "all flagged":
        dq[:] = 16
    elif case == "huge range":
        sci.flat[::5] *= np.float32(1e30)
    _same(_ours(Imset(sci, err, dq), 16), _dostat(sci, err, dq, 16))


def _imset(sci, err, dq):
    return Imset(np.asarray(sci, np.float32), np.asarray(err, np.float32), np.asarray(dq, np.int16))


def test_statistics_skip_flagged_pixels_and_positive_values_with_zero_error():
    stats = compute_statistics(
        _imset([[1.0, 2.0, 3.0, -1.0]], [[1.0, 1.0, 0.0, 0.0]], [[0, 16, 0, 0]]), sdqflags=16
    )
    # pixel 1 flagged, pixel 2 (SCI>0, ERR=0) excluded, pixel 3 (SCI<=0, ERR=0) S/N 0.
    assert stats.ngoodpix == 2
    assert (stats.goodmin, stats.goodmax, stats.goodmean) == (-1.0, 1.0, 0.0)
    assert (stats.snrmin, stats.snrmax) == (0.0, 1.0)


def test_statistics_with_no_good_pixel_give_only_ngoodpix():
    stats = compute_statistics(_imset([[1.0]], [[1.0]], [[16]]), sdqflags=16)
    assert stats.ngoodpix == 0 and stats.goodmean is None
