"""Properties of PHOTCORR's interpolation, ATODCORR's look-up and SHADCORR's division."""

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from reference_impl.imset import Imset
from reference_impl.steps import photcorr as pc
from reference_impl.steps.atodcorr import SATPIXEL, apply_atod
from reference_impl.steps.shadcorr import correct_shutter_shading
from tests.strategies import budget, imsets

grids = st.lists(st.floats(48000.0, 70000.0), min_size=2, max_size=12, unique=True).map(sorted)


@budget(ci=200)
@given(grid=grids, data=st.data())
def test_interpolation_stays_between_the_bracketing_values(grid, data):
    values = data.draw(st.lists(st.floats(-1e3, 1e3), min_size=len(grid), max_size=len(grid)))
    x = data.draw(st.floats(grid[0], grid[-1]))
    row = pc.PhotRow("m", nelem=(len(grid),), parnames=("mjd#",), parvals=(tuple(grid),),
                     results=tuple(values))  # fmt: skip
    value = pc.interpolate_parameterised(row, pc.ParsedObsmode("m", ("mjd#",), (x,)), extrap=False)
    i = max(k for k in range(len(grid) - 1) if grid[k] <= x) if x < grid[-1] else len(grid) - 2
    lo, hi = sorted((values[i], values[i + 1]))
    assert lo - 1e-9 * max(1.0, abs(lo)) <= value <= hi + 1e-9 * max(1.0, abs(hi))


@budget(ci=200)
@given(grid=grids, data=st.data())
def test_interpolation_returns_the_table_value_at_a_grid_point(grid, data):
    values = data.draw(st.lists(st.floats(-1e3, 1e3), min_size=len(grid), max_size=len(grid)))
    k = data.draw(st.integers(0, len(grid) - 1))
    row = pc.PhotRow("m", nelem=(len(grid),), parnames=("mjd#",), parvals=(tuple(grid),),
                     results=tuple(values))  # fmt: skip
    obs = pc.ParsedObsmode("m", ("mjd#",), (grid[k],))
    value = pc.interpolate_parameterised(row, obs, extrap=False)
    assert value == values[k] or abs(value - values[k]) <= 1e-9 * max(1.0, abs(values[k]))


@budget(ci=200)
@given(grid=grids, data=st.data())
def test_outside_the_grid_is_minus_9999_without_extrapolation(grid, data):
    x = data.draw(st.one_of(st.floats(40000.0, grid[0]), st.floats(grid[-1], 80000.0)))
    assume(x < grid[0] or x > grid[-1])
    row = pc.PhotRow("m", nelem=(len(grid),), parnames=("mjd#",), parvals=(tuple(grid),),
                     results=(1.0,) * len(grid))  # fmt: skip
    obs = pc.ParsedObsmode("m", ("mjd#",), (x,))
    assert pc.interpolate_parameterised(row, obs, extrap=False) == -9999.0
    assert pc.interpolate_parameterised(row, obs, extrap=True) == 1.0  # constant extrapolates


@budget(ci=100)
@given(parts=st.lists(st.text("abcdefghij0123456789#", min_size=1, max_size=6), min_size=1,
                      max_size=6), data=st.data())  # fmt: skip
def test_obsmodes_match_a_reordering_of_their_parts(parts, data):
    order = data.draw(st.permutations(parts))
    assert pc.obsmodes_match(",".join(order), ",".join(parts))


@budget(ci=100)
@given(words=st.lists(st.sampled_from(["STIS", "50CCD", "MIRROR", "CCD", "MJD#1.5"]), max_size=5),
       gain=st.sampled_from([1, 4]), at=st.integers(0, 5))  # fmt: skip
def test_remove_a2d_removes_exactly_the_gain_word(words, gain, at):
    with_a2d = words[:at] + [f"A2D{gain}"] + words[at:]
    out, found = pc.remove_a2d(" ".join(with_a2d))
    assert found and out == " ".join(words)


@budget(ci=100)
@given(science=imsets(elements=st.floats(-100.0, 70000.0, width=32)), nelem=st.integers(1, 70000))
def test_an_identity_atod_table_changes_nothing_below_its_end(science, nelem):
    science = Imset(np.trunc(science.sci).astype(np.float32), science.err, science.dq)
    out = apply_atod(science, np.arange(nelem, dtype=np.float32))
    high = science.sci >= nelem
    assert np.array_equal(out.sci[~high], science.sci[~high])
    assert np.all(out.sci[high] == np.float32(nelem - 1))
    assert np.array_equal(out.dq, np.where(high, science.dq | SATPIXEL, science.dq))


@budget(ci=100)
@given(science=imsets(), exptime=st.floats(0.1, 1e4), ncombine=st.integers(1, 8),
       shade_value=st.floats(0.0, 0.5))  # fmt: skip
def test_shading_never_brightens_and_keeps_the_sign(science, exptime, ncombine, shade_value):
    shape = science.sci.shape
    shade = Imset(np.full(shape, shade_value, np.float32), np.zeros(shape, np.float32),
                  np.zeros(shape, np.int16))  # fmt: skip
    out = correct_shutter_shading(science, shade, exptime_s=exptime, ncombine=ncombine)
    assert np.all(np.abs(out.sci) <= np.abs(science.sci))
    assert np.all(np.sign(out.sci) == np.sign(science.sci))
    assert np.array_equal(out.dq, science.dq)
