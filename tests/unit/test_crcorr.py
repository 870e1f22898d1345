"""CR rejection on synthetic stacks with injected cosmic rays (known truth)."""

import numpy as np

from reference_impl import dqflags
from reference_impl.steps.crcorr import (
    CRRejectParameters,
    parse_sigmas,
    reject_cosmic_rays,
    sky_mode,
)

CR = dqflags.DATAREJECT


def params(**kw):
    base = dict(
        sigmas=parse_sigmas("6,5,4"),
        sigmas_text="6,5,4",
        radius_pix=np.float32(1.0),
        thresh=np.float32(0.5),
        initial="median",
        skysub="none",
        scalense_percent=np.float32(0.0),
        badinpdq=0,
        crmask=True,
    )
    base.update(kw)
    return CRRejectParameters(**base)


def stack(n=4, shape=(40, 50), level=200.0, seed=3, readnoise=3.0):
    rng = np.random.default_rng(seed)
    sci = rng.poisson(level, size=(n, *shape)).astype(np.float32)
    sci += rng.normal(0, readnoise, size=sci.shape).astype(np.float32)
    return sci, np.zeros(sci.shape, np.int16)


def run(sci, dq, p):
    n = sci.shape[0]
    return reject_cosmic_rays(
        sci,
        dq,
        exptime_s=np.full(n, 100.0, np.float32),
        noise_dn=np.full(n, 3.0, np.float32),
        gain_e_per_dn=np.full(n, 1.0, np.float32),
        params=p,
    )


def test_parse_sigmas_accepts_calstis_separators():
    assert parse_sigmas("6,5;4/3 2") == tuple(np.float32(x) for x in (6, 5, 4, 3, 2))


def test_injected_cosmic_rays_are_flagged_8192_and_clean_pixels_are_not():
    sci, dq = stack()
    truth = np.zeros(sci.shape, bool)
    rng = np.random.default_rng(9)
    # Distinct pixels for every hit: a pixel hit in half the imsets drags the median
    # guess with it, and then the clean imsets are the outliers (calstis's algorithm).
    n, ny, nx = sci.shape
    cells = rng.choice((ny - 6) * (nx - 6), size=6 * n, replace=False)
    ys, xs = np.divmod(cells, nx - 6)
    for k in range(n):
        hit = slice(6 * k, 6 * (k + 1))
        sci[k, ys[hit] + 3, xs[hit] + 3] += 5000.0
        truth[k, ys[hit] + 3, xs[hit] + 3] = True
    # 7-sigma last iteration: a pixel within the noise is flagged with odds ~1e-11,
    # so any flag outside the hits and their neighbours is a real error.
    result = run(sci, dq, params(sigmas=parse_sigmas("9,8,7"), sigmas_text="9,8,7"))
    flagged = (result.input_dq & CR) != 0
    assert flagged[truth].all()
    # Only hits and their spilled neighbours (within CRRADIUS = 1) are flagged.
    neighbours = truth.copy()
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        neighbours |= np.roll(truth, (dy, dx), axis=(1, 2))
    assert not flagged[~neighbours].any()
    # The combined image has no trace of the hits: close to n * level everywhere.
    assert np.abs(result.sci - 4 * 200.0).max() < 8 * np.sqrt(4 * 200.0 + 4 * 9)


def test_rejection_of_identical_imsets_flags_nothing():
    sci, dq = stack()
    same = np.repeat(sci[:1], 4, axis=0)
    result = run(same, dq, params())
    assert result.n_rejected == 0 and not (result.input_dq & CR).any()
    # float32 mean of identical values times the total time: equal to within rounding.
    np.testing.assert_allclose(result.sci, same[0] * 4, rtol=1e-6)


def test_pixel_rejected_in_every_imset_gets_8192_in_the_combined_dq():
    sci, dq = stack(n=2)
    sci[0, 10, 10] += 4000.0
    sci[1, 10, 10] += 9000.0
    result = run(sci, dq, params())
    # Both imsets deviate from their median: rejected everywhere -> SCI = SKYSUM (0), ERR 0.
    assert result.dq[10, 10] & CR
    assert result.sci[10, 10] == 0.0 and result.err[10, 10] == 0.0
    assert not (result.dq[20:30, 20:30] & CR).any()


def test_badinpdq_pixels_are_left_out_but_not_flagged():
    sci, dq = stack(n=3)
    dq[1, 5, 5] = dqflags.SATPIXEL
    sci[1, 5, 5] = 60000.0
    result = run(sci, dq, params(badinpdq=dqflags.SATPIXEL, thresh=np.float32(0.0)))
    # Excluded from the combination: the sum is rescaled from the two other imsets.
    assert abs(result.sci[5, 5] - 3 * 200.0) < 100
    assert not result.input_dq[1, 5, 5] & CR or result.input_dq[1, 5, 5] & dqflags.SATPIXEL


def test_sky_mode_finds_the_histogram_peak():
    rng = np.random.default_rng(0)
    sci = (rng.normal(50.0, 3.0, (200, 200))).astype(np.float32)
    assert abs(float(sky_mode(sci, np.zeros(sci.shape, np.int16))) - 50.0) < 1.0


def test_reject_cosmic_rays_does_not_modify_inputs():
    sci, dq = stack(n=2)
    sci_before, dq_before = sci.copy(), dq.copy()
    run(sci, dq, params())
    np.testing.assert_array_equal(sci, sci_before)
    np.testing.assert_array_equal(dq, dq_before)
