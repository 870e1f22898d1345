"""FLATCORR properties: a unit flat leaves SCI and ERR unchanged; DQ bits are only added; F = 0."""

import numpy as np
from hypothesis import example, given

from reference_impl import dqflags
from reference_impl.imset import Imset
from reference_impl.steps.flatcorr import apply_flat
from tests.strategies import budget, imsets, reference_imsets, shapes


@budget(ci=40)
@given(science=shapes.flatmap(lambda s: imsets(s)))
@example(science=Imset(np.array([[-0.0, 1e-45]], np.float32), np.array([[0.0, 1e30]], np.float32),
                       np.array([[-32768, 0]], np.int16)))  # fmt: skip
def test_unit_flat_leaves_sci_err_and_dq_unchanged(science):
    shape = science.sci.shape
    unit = Imset(np.ones(shape, np.float32), np.zeros(shape, np.float32), np.zeros(shape, np.int16))
    out = apply_flat(science, unit)
    np.testing.assert_array_equal(out.sci, science.sci)
    np.testing.assert_array_equal(out.dq, science.dq)
    # sqrt(f32(e*e)) == e wherever the square is a normal float32 (see test_biascorr_properties)
    normal = (science.err >= 2.0**-63) & (science.err < 2.0**64)
    np.testing.assert_array_equal(out.err[normal], science.err[normal])


@budget(ci=40)
@given(
    data=shapes.flatmap(
        lambda s: imsets(s).flatmap(
            lambda i: reference_imsets(s, kind="flat").map(lambda f: (i, f))
        )
    )
)
def test_flatcorr_never_clears_a_dq_bit(data):
    science, flat = data
    out = apply_flat(science, flat)
    assert np.array_equal(out.dq & science.dq, science.dq)
    assert np.array_equal(out.dq & flat.dq, flat.dq)


@budget(ci=30)
@given(science=shapes.flatmap(lambda s: imsets(s)))
def test_zero_flat_leaves_sci_and_err_and_flags_calibdefect(science):
    shape = science.sci.shape
    zero = Imset(
        np.zeros(shape, np.float32), np.full(shape, 0.01, np.float32), np.zeros(shape, np.int16)
    )
    out = apply_flat(science, zero)
    np.testing.assert_array_equal(out.sci, science.sci)
    np.testing.assert_array_equal(out.err, science.err)
    assert np.all(out.dq & dqflags.CALIBDEFECT)
