import numpy as np
import pytest

from reference_impl import dqflags
from reference_impl.imset import Imset
from reference_impl.steps.dqicorr import (
    ApertureGeometry,
    BadPixelRun,
    flag_bad_pixels,
    flag_beyond_aperture,
    flag_from_bpixtab,
    flag_saturation,
    parse_aper_fov,
)

SAT = dqflags.SATPIXEL
DP = dqflags.DETECTORPROB


def test_flag_saturation_truncates_and_compares_strictly():
    sci = np.array([[100.9, 101.0, 101.5, 102.0]], np.float32)
    dq = flag_saturation(sci, np.zeros((1, 4), np.int16), saturate_dn=101.0)
    # trunc(100.9)=100, trunc(101.0)=101 and trunc(101.5)=101 are not > 101.
    assert dq.tolist() == [[0, 0, 0, SAT]]


def test_flag_saturation_keeps_raw_dq_bits():
    dq = flag_saturation(
        np.array([[5.0e4]], np.float32), np.array([[2]], np.int16), saturate_dn=3.3e4
    )
    assert dq[0, 0] == SAT | dqflags.DATALOST


def test_parse_aper_fov_reads_height_then_width():
    assert parse_aper_fov("28X50") == (28.0, 50.0)
    assert parse_aper_fov("52X2") == (52.0, 2.0)
    assert parse_aper_fov("junk") == (0.0, 0.0)


def test_flag_beyond_aperture_flags_rows_and_columns_outside_the_box_for_imaging():
    # 0.05"/pix, 28x50 aperture: box y = 512 -+ 280 -+ 10 -> [222, 802]; x = 512 -+ 500 -+ 10.
    dq = np.zeros((1024, 1024), np.int16)
    ap = ApertureGeometry(28.0, 50.0, (0.05 / 3600, 0.05 / 3600), is_imaging=True)
    out = flag_beyond_aperture(dq, aperture=ap, ltm=(1.0, 1.0), ltv0=(0.0, 0.0))
    assert out[221, 500] == DP and out[222, 500] == 0
    assert out[802, 500] == 0 and out[803, 500] == DP
    assert out[500, 1] == DP and out[500, 2] == 0  # x box starts at NINT(2.0) = 2
    assert out[500, 1022] == 0 and out[500, 1023] == DP


def test_flag_beyond_aperture_leaves_columns_alone_for_spectroscopy():
    dq = np.zeros((1024, 1024), np.int16)
    ap = ApertureGeometry(28.0, 0.2, (0.05 / 3600, 0.05 / 3600), is_imaging=False)
    out = flag_beyond_aperture(dq, aperture=ap, ltm=(1.0, 1.0), ltv0=(0.0, 0.0))
    assert out[500, :].max() == 0 and out[100, :].min() == DP


@pytest.mark.parametrize("fov", ["50X50", "2X2", "0X0"])
def test_flag_beyond_aperture_skips_heights_outside_5_to_45_arcsec(fov):
    h, w = parse_aper_fov(fov)
    ap = ApertureGeometry(h, w, (0.05 / 3600, 0.05 / 3600), is_imaging=True)
    out = flag_beyond_aperture(
        np.zeros((64, 64), np.int16), aperture=ap, ltm=(1.0, 1.0), ltv0=(0.0, 0.0)
    )
    assert not out.any()


def test_flag_beyond_aperture_never_flags_overscan():
    dq = np.zeros((1044, 1062), np.int16)
    ap = ApertureGeometry(28.0, 50.0, (0.05 / 3600, 0.05 / 3600), is_imaging=True)
    out = flag_beyond_aperture(dq, aperture=ap, ltm=(1.0, 1.0), ltv0=(19.0, 0.0))
    assert not out[:, :19].any() and not out[:, 1043:].any() and not out[1024:, :].any()


def test_bpixtab_runs_go_to_reference_coordinates_shifted_by_ltv_when_unbinned():
    runs = [
        BadPixelRun(x0=0, y0=1, length=3, axis=1, value=16),
        BadPixelRun(x0=2, y0=0, length=2, axis=2, value=4),
    ]
    out = flag_from_bpixtab(
        np.zeros((4, 8), np.int16),
        runs=runs,
        table_shape=(1024, 1024),
        ltm=(1.0, 1.0),
        ltv0=(2.0, 0.0),
    )
    assert out[1, 2:5].tolist() == [16, 16, 16 | 4]
    assert out[0:2, 4].tolist() == [4, 4 | 16]
    assert out.sum() == 16 * 3 + 4 * 2


def test_bpixtab_runs_are_clipped_to_the_image():
    runs = [BadPixelRun(x0=0, y0=0, length=100, axis=1, value=8)]
    out = flag_from_bpixtab(
        np.zeros((2, 5), np.int16),
        runs=runs,
        table_shape=(1024, 1024),
        ltm=(1.0, 1.0),
        ltv0=(0.0, 0.0),
    )
    assert out[0].tolist() == [8] * 5 and not out[1].any()


def test_bpixtab_binned_data_get_whole_or_reduced_blocks():
    # 2x2 binning, trimmed frame starting at reference column 1 (LTV = -0.25 -> ltv0 = -0.75).
    runs = [BadPixelRun(x0=3, y0=4, length=1, axis=1, value=32)]
    out = flag_from_bpixtab(
        np.zeros((8, 8), np.int16),
        runs=runs,
        table_shape=(16, 16),
        ltm=(0.5, 0.5),
        ltv0=(-0.75, -0.75),
    )
    (ys, xs) = np.nonzero(out)
    # Image pixel m covers reference pixels 1+2m and 2+2m (corner 1): x=3 -> 1, y=4 -> 1.
    assert list(zip(ys.tolist(), xs.tolist(), strict=True)) == [(1, 1)]


def test_flag_bad_pixels_does_not_modify_inputs():
    sci = np.array([[1.0, 4.0e4]], np.float32)
    science = Imset(sci, np.zeros_like(sci), np.zeros((1, 2), np.int16))
    before = science.copy()
    flag_bad_pixels(
        science,
        saturate_dn=3.3e4,
        aperture=None,
        runs=[BadPixelRun(0, 0, 1, 1, 4)],
        table_shape=(1024, 1024),
        ltm=(1.0, 1.0),
        ltv0=(0.0, 0.0),
    )
    for a, b in zip(science, before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_flag_saturation_compares_the_truncated_value_with_the_float32_threshold():
    sci = np.array([[65535.0, 65535.9, 65536.0, -0.5, np.float32(33000.7)]], np.float32)
    dq = np.array([[0, 1, 0, 2, 0]], np.int16)
    out = flag_saturation(sci, dq, saturate_dn=np.float32(33000.5))
    assert out.dtype == np.int16
    assert out.tolist() == [[256, 257, 256, 2, 0]]


@pytest.mark.parametrize("saturate_dn", [0.0, 0.7, 33000.0, 33000.5, 65535.0, 144000.0, 2.0**25])
def test_flag_saturation_threshold_shortcut_equals_truncate_and_compare(saturate_dn):
    # x >= floor(s) + 1 stands for trunc(x) > s; the edges and non-finite values agree.
    rng = np.random.default_rng(3)
    s = np.float32(saturate_dn)
    edges = [np.nan, np.inf, -np.inf, -0.5, 0.99, s, np.nextafter(s, np.float32(0)),
             np.floor(s) + 1, np.nextafter(np.float32(np.floor(s) + 1), np.float32(0))]  # fmt: skip
    sci = np.concatenate([rng.uniform(-5, 2e5, 5000), edges]).astype(np.float32)[None, :]
    dq = np.zeros(sci.shape, np.int16)
    want = np.where(np.trunc(sci) > s, np.int16(SAT), np.int16(0))
    np.testing.assert_array_equal(flag_saturation(sci, dq, saturate_dn=saturate_dn), want)


def test_flag_bad_pixels_leaves_its_input_dq_unchanged_when_later_flags_go_in_place():
    sci = np.full((40, 30), 5e4, np.float32)
    dq = np.zeros((40, 30), np.int16)
    before = dq.copy()
    out = flag_bad_pixels(
        Imset(sci, np.zeros_like(sci), dq),
        saturate_dn=3.3e4,
        aperture=None,
        runs=[BadPixelRun(x0=2, y0=3, length=4, axis=1, value=DP)],
        table_shape=(40, 30),
        ltm=(1.0, 1.0),
        ltv0=(0.0, 0.0),
    )
    np.testing.assert_array_equal(dq, before)
    assert out.dq is not dq and int(out.dq[3, 2]) == SAT | DP


def test_sci_and_err_pass_through_as_read_only_views_of_the_inputs():
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
