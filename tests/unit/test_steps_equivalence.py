"""Block-wise steps against the whole-frame versions they replaced, bit for bit.

The oracles in tests/unit/oracles/ are the pre-rewrite modules, which matched
calstis 3.5.0 on the corpus and the live differential suite.
"""

import numpy as np
import pytest

from reference_impl.binning import bin_block, expand_bilinear, match_reference
from reference_impl.geometry import placement_from_lt
from reference_impl.imset import Imset
from reference_impl.numerics import BLOCK_ROWS
from reference_impl.steps.biascorr import subtract_bias
from reference_impl.steps.blevcorr import subtract_overscan_bias
from reference_impl.steps.darkcorr import subtract_dark
from reference_impl.steps.dqicorr import flag_bad_pixels
from reference_impl.steps.flatcorr import apply_flat, combine_flats, multiply_flats
from reference_impl.steps.noise import init_errors
from tests.unit.oracles import binning_v1, blevcorr_v1, darkcorr_v1, flatcorr_v1, numerics_v1

SHAPE = (2 * BLOCK_ROWS + 11, 96)


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def _same(new: Imset, old: Imset):
    for name, a, b in zip(("sci", "err", "dq"), new, old, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype, name
        assert np.array_equal(_bits(a), _bits(b)), name


def _imset(seed, shape=SHAPE, *, level=1.0, spread=0.05, zeros=0, nans=0):
    rng = np.random.default_rng(seed)
    sci = rng.normal(level, spread, shape).astype(np.float32)
    err = np.abs(rng.normal(0, spread / 3, shape)).astype(np.float32)
    dq = np.where(rng.random(shape) < 0.02, 512, 0).astype(np.int16)
    flat = sci.ravel()
    flat[rng.integers(0, flat.size, zeros)] = 0.0
    flat[rng.integers(0, flat.size, nans)] = np.nan
    return Imset(sci, err, dq)


def test_sub2d_equals_the_whole_frame_version():
    a, b = _imset(1, level=500, spread=80), _imset(2, level=1, spread=3)
    new = subtract_bias(a, b)
    old = numerics_v1.sub2d(*a, *b)
    _same(new, Imset(*old))


@pytest.mark.parametrize("scale", [np.float32(1.0), np.float32(600.0 / 1.029 * 1.105)])
def test_subtract_dark_equals_the_whole_frame_version(scale):
    science = _imset(3, level=300, spread=50, nans=3)
    dark = _imset(4, level=0.01, spread=0.003)
    new = subtract_dark(science, dark, scale=scale)
    old = darkcorr_v1.subtract_dark(science, dark, scale=scale)
    _same(new.imset, old.imset)
    assert (
        _bits(np.float32(new.meandark_dn)).tobytes() == _bits(np.float32(old.meandark_dn)).tobytes()
    )


def test_multiply_and_apply_flats_equal_the_whole_frame_versions():
    p, d = _imset(5, zeros=30, nans=2), _imset(6)
    _same(multiply_flats(p, d), flatcorr_v1.multiply_flats(p, d))
    science = _imset(7, level=800, spread=300, nans=2)
    flat = _imset(8, zeros=40)
    with np.errstate(invalid="ignore", over="ignore"):
        _same(apply_flat(science, flat), flatcorr_v1.apply_flat(science, flat))


@pytest.mark.parametrize(
    ("low_shape", "shape"),
    [((32, 24), (128, 96)), ((64, 12), (128, 96)), ((16, 96), (128, 96)), ((128, 96), (128, 96))],
)
def test_lflt_expansion_and_combination_equal_the_whole_frame_versions(low_shape, shape):
    low = _imset(9, low_shape, spread=0.2)
    low.dq[3, 2] = 4
    with np.errstate(invalid="ignore"):
        _same(expand_bilinear(low, shape), binning_v1.expand_bilinear(low, shape))
        p, d = _imset(10, shape), _imset(11, shape)
        _same(combine_flats(p, d, low), flatcorr_v1.combine_flats(p, d, low))
        _same(combine_flats(p, None, low), flatcorr_v1.combine_flats(p, None, low))


def test_binning_and_matching_equal_the_whole_frame_versions():
    ref = _imset(12, (260, 200), level=5, spread=2)
    for bx, by, avg in ((2, 2, False), (4, 1, True), (1, 1, False)):
        kw = dict(x0=3, y0=1, bin_x=bx, bin_y=by, shape=(60, 40), average=avg)
        _same(bin_block(ref, **kw), binning_v1.bin_block(ref, **kw))
    place = placement_from_lt(0.0, 0.0, 1.0, 1.0)
    _same(
        match_reference(ref, place, place, (260, 200), average=False, what="x"),
        binning_v1.match_reference(ref, place, place, (260, 200), average=False, what="x"),
    )


def test_pass_through_arrays_are_read_only_views_of_the_inputs():
    raw = Imset(
        np.full((8, 6), 100.0, np.float32), np.zeros((8, 6), np.float32), np.zeros((8, 6), np.int16)
    )
    out = flag_bad_pixels(
        raw,
        saturate_dn=np.float32(50.0),
        aperture=None,
        runs=None,
        table_shape=None,
        ltm=(1.0, 1.0),
        ltv0=(0.0, 0.0),
    )
    assert np.shares_memory(out.sci, raw.sci) and not out.sci.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        out.sci[0, 0] = 1.0
    init = init_errors(raw, bias_dn=0.0, gain_e_per_dn=1.0, readnoise_e=3.0)
    assert not init.sci.flags.writeable and init.err.flags.writeable


@pytest.mark.parametrize(
    ("amp", "nx", "ny", "bins"),
    [("D", 1062, 1044, (1, 1)), ("A", 532, 522, (2, 2)), ("B", 1060, 48, (1, 1))],
)
def test_blevcorr_equals_the_whole_frame_version(amp, nx, ny, bins):
    from reference_impl.geometry import find_overscan

    rng = np.random.default_rng(13)
    sci = (1500 + rng.normal(0, 4, (ny, nx))).astype(np.float32)
    sci[rng.integers(0, ny, 40), rng.integers(0, nx, 40)] += np.float32(3000.0)
    dq = np.where(rng.random(sci.shape) < 0.01, 256, 0).astype(np.int16)
    raw = Imset(sci, np.zeros_like(sci), dq)
    layout = find_overscan(amp, nx, ny, bins)
    kw = dict(layout=layout, sdqflags=31743, ccdbias_dn=1500.0, blev_clip=50.0)
    new = subtract_overscan_bias(raw, **kw)
    old = blevcorr_v1.subtract_overscan_bias(raw, **kw)
    _same(new.imset, old.imset)
    assert new.meanblev_dn == old.meanblev_dn
    assert (new.trimmed, new.left, new.bottom) == (old.trimmed, old.left, old.bottom)


def _flat_file(path, flat: Imset, order=("SCI", "ERR", "DQ")):
    from astropy.io import fits

    arrays = dict(zip(("SCI", "ERR", "DQ"), flat, strict=True))
    hdus = [fits.PrimaryHDU()] + [fits.ImageHDU(arrays[n], name=n, ver=1) for n in order]
    fits.HDUList(hdus).writeto(path)
    return path


@pytest.mark.parametrize("order", [("SCI", "ERR", "DQ"), ("SCI", "DQ", "ERR"), ("SCI", "DQ")])
@pytest.mark.parametrize("with_lflt", [True, False])
def test_flats_combined_in_blocks_from_files_equal_combine_flats(tmp_path, order, with_lflt):
    from reference_impl.io.reffiles import ReferenceStream, read_reference_image
    from reference_impl.steps.flatcorr import combine_flat_dq, combine_flats_in_blocks

    shape = (2 * BLOCK_ROWS + 8, 48)
    p, d = _imset(20, shape, zeros=5), _imset(21, shape, nans=2)
    low = _imset(22, (shape[0] // 4, shape[1] // 4), spread=0.2) if with_lflt else None
    p_path = _flat_file(tmp_path / "p.fits.gz", p, order)
    d_path = _flat_file(tmp_path / "d.fits", d)
    p_read = read_reference_image(p_path, what="PFLTFILE").imset
    with np.errstate(invalid="ignore"):
        want = combine_flats(p_read, d, low)
        with ReferenceStream(p_path, what="P") as ps, ReferenceStream(d_path, what="D") as ds:
            blocks = (
                (rows, pe, de)
                for (rows, pe), (_, de) in zip(ps.err_blocks(), ds.err_blocks(), strict=True)
            )
            sci, err, l_dq = combine_flats_in_blocks(ps.sci, ds.sci, blocks, low)
            got = Imset(sci, err, combine_flat_dq(ps.dq(), ds.dq(), l_dq))
    _same(got, want)
