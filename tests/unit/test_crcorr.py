"""CR rejection (spec §12; calstis2) on synthetic stacks with injected cosmic rays (known truth).

Pinned to calstis rather than to earlier code (issue 16). What used to be
checked against the frozen ``oracles/crcorr_v1`` (the whole-frame version of
the block-wise rejection) is covered by:

* the corpus: the four multi-imset ``_crj`` products bit for bit (median guess,
  sky ``mode`` and ``none``, BADINPDQ 0 and 256, 2, 3 and 4 imsets, SKYSUM and
  REJ_RATE), tests/regression/test_corpus_reference.py;
* live calstis: tests/differential/test_crcorr_cases.py (INITGUES minimum,
  CRSPLIT 2-8, BADINPDQ, binned, subarray, spectroscopy, EXPSCORR, repeats);
* tests/property/test_crcorr_properties.py (identical imsets, isolated hits);
* the tests below for what neither varies: CRRADIUS (the spill circle),
  CRTHRESH <= 0, CRMASK off, one sigma, unequal and zero EXPTIMEs, a NaN, and
  `test_rejection_is_local_so_row_blocks_do_not_change_it`, which takes the
  place of the block-by-block against whole-frame comparison: the rejection
  of a stack cut into bands, each smaller than a block, equals the rejection
  of the bands laid out over block boundaries (spec §12.5: every quantity is
  per pixel but the spill, which reaches CRRADIUS).
"""

import numpy as np
import pytest

from reference_impl import dqflags
from reference_impl.numerics import BLOCK_ROWS
from reference_impl.steps.crcorr import (
    CRRejectParameters,
    _circle_offsets,
    _median_guess,
    _shifted_any,
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


def test_block_wise_rejection_takes_a_list_of_imsets():
    sci, dq = stack(n=2, shape=(70, 50))
    a = run(sci, dq, params())
    b = reject_cosmic_rays(
        list(sci),
        list(dq),
        exptime_s=np.full(2, 100.0, np.float32),
        noise_dn=np.full(2, 3.0, np.float32),
        gain_e_per_dn=np.full(2, 1.0, np.float32),
        params=params(),
        flag_inputs=False,
    )
    assert b.input_dq is None
    for name in ("sci", "err", "dq"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def one_hit(n=3, *, row=BLOCK_ROWS - 1, col=10, level=100.0):
    """Noise-free imsets of ``level`` DN with one cosmic ray in imset 0 at ``(row, col)``."""
    sci = np.full((n, 2 * BLOCK_ROWS, 21), level, np.float32)
    sci[0, row, col] += np.float32(5000.0)
    return sci, np.zeros(sci.shape, np.int16)


def circle(shape, row, col, radius):
    j, i = np.indices(shape)
    return (j - row) ** 2 + (i - col) ** 2 <= radius**2


@pytest.mark.parametrize(("radius", "n_pixels"), [(0.5, 1), (1.5, 9), (2.5, 21)])
def test_crthresh_zero_spills_the_whole_crradius_circle_across_a_block_boundary(radius, n_pixels):
    """Spec §12.5: a HIT, then with CRTHRESH <= 0 every pixel within CRRADIUS is spilled."""
    sci, dq = one_hit()
    p = params(radius_pix=np.float32(radius), thresh=np.float32(0.0))
    result = run(sci, dq, p)
    flagged = (result.input_dq & CR) != 0
    want = circle(sci.shape[1:], BLOCK_ROWS - 1, 10, radius)
    assert want.sum() == n_pixels
    assert np.array_equal(flagged[0], want)
    assert not flagged[1:].any() and result.n_rejected == n_pixels
    # The rejected pixels are made up from the other imsets: the sum is 3 x 100 DN everywhere.
    assert np.all(result.sci == np.float32(300.0))
    assert not (result.dq & CR).any()  # not rejected in every imset


def test_crthresh_keeps_neighbours_within_the_noise_unspilled():
    sci, dq = one_hit()
    result = run(sci, dq, params(radius_pix=np.float32(2.5), thresh=np.float32(0.8)))
    flagged = (result.input_dq & CR) != 0
    assert flagged[0].sum() == 1 and flagged[0, BLOCK_ROWS - 1, 10]


def test_the_combined_error_is_texpt_times_root_sumvar_over_efacsum():
    """Spec §12.5-12.6: ``sumvar`` adds ``noise^2 + val/gain + (s*val)^2`` over the kept imsets."""
    sci, dq = one_hit()
    result = run(sci, dq, params(thresh=np.float32(0.0), scalense_percent=np.float32(5.0)))
    per_imset = 3.0**2 + 100.0 / 1.0 + (0.05 * 100.0) ** 2
    kept_all = np.sqrt(3 * per_imset) / 300.0 * 300.0
    kept_two = np.sqrt(2 * per_imset) / 200.0 * 300.0
    rejected = (result.input_dq[0] & CR) != 0
    np.testing.assert_allclose(result.err[~rejected], kept_all, rtol=1e-6)
    np.testing.assert_allclose(result.err[rejected], kept_two, rtol=1e-6)


def test_crmask_off_leaves_the_input_dq_unflagged():
    sci, dq = one_hit()
    result = run(sci, dq, params(crmask=False))
    assert result.n_rejected == 1
    np.testing.assert_array_equal(result.input_dq, dq)


@pytest.mark.parametrize("sigmas", ["4", "6,5,4", "9;4"])
def test_one_or_more_sigmas_reject_the_same_isolated_hit(sigmas):
    sci, dq = one_hit()
    result = run(sci, dq, params(sigmas=parse_sigmas(sigmas), sigmas_text=sigmas))
    assert result.n_rejected == 1 and (result.input_dq[0, BLOCK_ROWS - 1, 10] & CR)


def test_unequal_exposure_times_weight_each_imset_and_scale_to_the_total():
    """Spec §12.4-12.6: rates ``SCI_k/efac_k``; the ``_crj`` is the rate times TEXPTIME."""
    exptime = np.array([100.0, 250.0, 50.0], np.float32)
    rate = np.float32(2.0)
    sci = np.repeat((rate * exptime)[:, None, None], 70 * 12, axis=1).reshape(3, 70, 12)
    sci = sci.astype(np.float32)
    sci[1, 40, 6] += np.float32(9000.0)
    result = reject_cosmic_rays(
        sci,
        np.zeros(sci.shape, np.int16),
        exptime_s=exptime,
        noise_dn=np.full(3, 3.0, np.float32),
        gain_e_per_dn=np.full(3, 1.0, np.float32),
        params=params(),
    )
    assert result.exptot_s == result.texpt_s == np.float32(400.0)
    assert np.all(result.sci == np.float32(800.0))
    assert result.n_rejected == 1 and (result.input_dq[1, 40, 6] & CR)


def test_all_zero_exposure_times_weigh_the_imsets_equally():
    """Spec §12.1: every EXPTIME 0 gives ``efac = 1`` and ``texpt = n``; the sum stays in DN."""
    sci = np.full((3, 20, 10), 7.0, np.float32)
    result = reject_cosmic_rays(
        sci,
        np.zeros(sci.shape, np.int16),
        exptime_s=np.zeros(3, np.float32),
        noise_dn=np.full(3, 3.0, np.float32),
        gain_e_per_dn=np.full(3, 1.0, np.float32),
        params=params(),
    )
    assert result.exptot_s == 0.0 and result.texpt_s == np.float32(3.0)
    assert np.all(result.sci == np.float32(21.0))


def test_a_nan_pixel_is_never_a_hit_and_rejects_nothing_around_it():
    """IEEE comparisons with NaN are false: ``(pic - ave)^2 > thr`` never holds for it."""
    sci, dq = one_hit()
    sci[1, 20, 5] = np.nan
    result = run(sci, dq, params(thresh=np.float32(0.0)))
    flagged = (result.input_dq & CR) != 0
    assert not flagged[:, 15:25, :].any()
    # Only the cosmic ray's CRRADIUS-1 circle (5 pixels) is rejected.
    assert np.isnan(result.sci[20, 5]) and result.n_rejected == 5


BAND_ROWS = 45  # under BLOCK_ROWS: each band alone is one block
GAP_ROWS = 4  # more than the spill reach of CRRADIUS 2.5

VARIANTS = {
    "median guess": dict(),
    "minimum guess": dict(initial="minimum"),
    "radius 2.5 (two rows of reach)": dict(radius_pix=np.float32(2.5)),
    "radius 0.5 (no neighbours)": dict(radius_pix=np.float32(0.5)),
    "crthresh 0 spills everything": dict(thresh=np.float32(0.0)),
    "no badinpdq, no crmask": dict(badinpdq=0, crmask=False),
    "one sigma": dict(sigmas=parse_sigmas("4"), sigmas_text="4"),
}


def cr_bands(n, n_bands, seed, exptime):
    """Poisson frames with hits, SATPIXEL and HOTPIX next to them, a NaN; bands apart."""
    rng = np.random.default_rng(seed)
    shape = (n, n_bands * (BAND_ROWS + GAP_ROWS), 33)
    rate = rng.poisson(0.8, shape[1:]).astype(np.float32) + np.float32(0.5)
    sci = (rate * exptime[:, None, None]).astype(np.float32)
    sci += rng.normal(0, 4.0, shape).astype(np.float32)
    dq = np.zeros(shape, np.int16)
    for k in range(n):
        j, i = rng.integers(0, shape[1], 60), rng.integers(0, shape[2], 60)
        sci[k, j, i] += rng.uniform(200, 5000, j.size).astype(np.float32)
        sci[k, np.clip(j + 1, 0, shape[1] - 1), i] += np.float32(900.0)
        dq[k, np.clip(j[:30] + 1, 0, shape[1] - 1), i[:30]] |= np.int16(dqflags.SATPIXEL)
        dq[k, j[30:40], np.clip(i[30:40] - 1, 0, shape[2] - 1)] |= np.int16(dqflags.HOTPIX)
    sci[1, 7, 7] = np.nan
    bands = [slice(b * (BAND_ROWS + GAP_ROWS), b * (BAND_ROWS + GAP_ROWS) + BAND_ROWS)
             for b in range(n_bands)]  # fmt: skip
    # Gaps: one noise-free rate in every imset, so nothing in them deviates from the guess.
    for b in range(n_bands):
        gap = slice(bands[b].stop, bands[b].stop + GAP_ROWS)
        sci[:, gap] = (np.float32(3.0) * exptime[:, None, None]).astype(np.float32)
        dq[:, gap] = 0
    return sci, dq, bands


@pytest.mark.parametrize("name", sorted(VARIANTS))
@pytest.mark.parametrize("exptime", [[100.0, 100.0, 100.0], [100.0, 250.5, 99.75], [0, 0, 0]])
def test_rejection_is_local_so_row_blocks_do_not_change_it(name, exptime):
    """Each band rejected alone (one block) equals its rows of the stack laid over blocks."""
    exptime = np.asarray(exptime, np.float32)
    chosen = dict(radius_pix=np.float32(1.5), thresh=np.float32(0.8), badinpdq=dqflags.SATPIXEL,
                  scalense_percent=np.float32(5.0))  # fmt: skip
    p = params(**{**chosen, **VARIANTS[name]})
    sci, dq, bands = cr_bands(3, 5, seed=len(name), exptime=np.where(exptime > 0, exptime, 1))
    assert any(b.start < BLOCK_ROWS * m < b.stop for b in bands for m in (1, 2, 3))

    def reject(s, d):
        return reject_cosmic_rays(
            s,
            d,
            exptime_s=exptime,
            noise_dn=np.full(3, np.float32(5.88 / 1.029), np.float32),
            gain_e_per_dn=np.full(3, np.float32(1.029), np.float32),
            params=p,
        )

    with np.errstate(invalid="ignore"):
        whole = reject(sci, dq)
        alone = [reject(sci[:, rows], dq[:, rows]) for rows in bands]
    assert sum(a.n_rejected for a in alone) > 0
    for rows, band in zip(bands, alone, strict=True):
        for name_ in ("sci", "err", "dq"):
            got, want = getattr(whole, name_)[rows], getattr(band, name_)
            assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), (name_, rows)
        np.testing.assert_array_equal(whole.input_dq[:, rows], band.input_dq)


def spec_sky(sci, dq):
    """Spec §12.3 ``mode`` for an interior peak: 1-DN histogram, parabolic interpolation."""
    values = sci[dq == 0]  # raster order
    amin = min(0.0, float(values.min()))
    mean = np.cumsum(values, dtype=np.float32)[-1] / np.float32(values.size)
    lo = -1000 if amin < -1000 else int(amin) - 1
    hi = 1 if mean <= 0 else int(float(mean) + 1.0) * 2
    index = np.trunc(values).astype(np.int64) - lo
    hist = np.bincount(index[(index >= 0) & (index <= hi - lo)], minlength=hi - lo + 1)
    b = int(np.argmax(hist))
    assert 0 < b < hist.size - 1, "an interior peak"
    h, h_lo, h_hi = hist[b], hist[b - 1], hist[b + 1]
    return lo + b + 0.5 + 0.5 * ((h - h_lo) - (h - h_hi)) / (2 * h - h_lo - h_hi)


def test_sky_mode_interpolates_the_histogram_peak_of_dq_zero_pixels():
    values = np.array([10.5] * 5 + [11.5] * 9 + [12.5] * 7 + [30.5] * 20, np.float32)
    dq = np.zeros(values.size, np.int16)
    dq[-20:] = dqflags.DETECTORPROB  # the larger peak is flagged: not sky
    sky = sky_mode(values[None, :], dq[None, :])
    # bin of 11.5 is 12 above lo = -1: -1 + 12 + 0.5 + 0.5 * (4 - 2) / (18 - 5 - 7)
    assert sky == pytest.approx(11.5 + 1.0 / 6.0, rel=1e-6)


@pytest.mark.parametrize("level", [-20.0, 10.0, 40.0])
def test_sky_mode_over_many_row_blocks_follows_the_spec(level):
    rng = np.random.default_rng(int(level) + 100)
    sci = rng.normal(level, 15, (3 * BLOCK_ROWS + 3, 77)).astype(np.float32)
    dq = np.where(rng.random(sci.shape) < 0.3, dqflags.HOTPIX, 0).astype(np.int16)
    dq[:BLOCK_ROWS] = dqflags.DETECTORPROB  # a block with no sky pixel at all
    # The bin position is a float32 (cr_mode.c), so within its rounding at ~100 bins.
    assert float(sky_mode(sci, dq)) == pytest.approx(spec_sky(sci, dq), abs=1e-4)


@pytest.mark.parametrize("n", [3, 4, 5, 7, 8, 9])
def test_median_guess_network_gives_the_sorted_middle_values(n):
    rng = np.random.default_rng(n)
    shape = (BLOCK_ROWS + 9, 33)  # two blocks, the second short
    sci = [rng.normal(40, 15, shape).astype(np.float32) for _ in range(n)]
    for frame in sci:  # ties, both zeros and infinities among the values
        tie = rng.random(shape) < 0.2
        frame[tie] = np.round(frame[tie] / 30)
        frame[rng.random(shape) < 0.05] = rng.choice(np.float32([0.0, -0.0, np.inf, -np.inf]))
    sky = np.zeros(n, np.float32)
    efac = np.ones(n, np.float32)
    ordered = np.sort(np.stack(sci, axis=-1), axis=-1)
    if n % 2:
        expected = ordered[..., n // 2]
    else:
        with np.errstate(invalid="ignore"):  # inf + -inf
            expected = (ordered[..., n // 2 - 1] + ordered[..., n // 2]) / np.float32(2)
    with np.errstate(invalid="ignore"):
        got = _median_guess(sci, sky, efac)
    assert got.dtype == np.float32
    assert np.array_equal(got, expected, equal_nan=True)  # as numbers (+0 == -0)


def test_median_guess_sorts_a_block_with_nan_as_np_sort_does():
    rng = np.random.default_rng(11)
    sci = [rng.normal(40, 15, (5, 6)).astype(np.float32) for _ in range(4)]
    sci[1][2, 3] = np.nan
    ordered = np.sort(np.stack(sci, axis=-1), axis=-1)  # NaN last
    expected = (ordered[..., 1] + ordered[..., 2]) / np.float32(2)
    got = _median_guess(sci, np.zeros(4, np.float32), np.ones(4, np.float32))
    assert np.array_equal(got.view(np.int32), expected.view(np.int32))


@pytest.mark.parametrize("radius", [-1.0, 0.0, 1.0, 1.5, 2.1, 3.2])
def test_spill_neighbourhood_is_every_offset_within_the_image(radius):
    """The separable dilation against the definition, on images smaller than the circle too."""
    offsets = _circle_offsets(np.float32(radius))
    rng = np.random.default_rng(int(radius * 10) + 20)
    for ny, nx in [(1, 1), (2, 7), (6, 3), (9, 11)]:
        mask = rng.random((ny, nx)) < 0.2
        expected = np.zeros_like(mask)
        for y in range(ny):
            for x in range(nx):
                expected[y, x] = any(
                    0 <= y + dj < ny and 0 <= x + di < nx and mask[y + dj, x + di]
                    for dj, di in offsets
                )
        assert np.array_equal(_shifted_any(mask, offsets), expected)
