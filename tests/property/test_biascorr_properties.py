"""BIASCORR properties: a zero bias leaves SCI unchanged; DQ bits are only added; ERR never shrinks.

ERR is combined as ``f32(sqrt(f32(f32(e*e) + f32(b*b))))`` (sub2d.c), so with a
zero bias ERR comes back unchanged only where ``e*e`` is a normal float32:
``2**-63 <= e < 2**64``. Below, the square underflows (to 0 for e < ~1e-23:
ERR 3.6e-37 DN comes back as 0); above, it overflows to inf. calstis does the
same; hypothesis found the underflow (pinned below).
"""

import numpy as np
from hypothesis import example, given

from reference_impl.imset import Imset
from reference_impl.steps.biascorr import subtract_bias
from tests.strategies import budget, imsets, reference_imsets, shapes

NORMAL_SQUARE = (np.float32(2.0**-63), np.float32(2.0**64))
TINY_ERR = Imset(np.zeros((1, 2), np.float32), np.array([[3.62702e-37, 2.0**-63]], np.float32),
                 np.zeros((1, 2), np.int16))  # fmt: skip


@budget(ci=40)
@given(data=shapes.flatmap(lambda s: imsets(s).map(lambda i: (i, s))))
@example(data=(TINY_ERR, (1, 2)))
def test_zero_bias_leaves_sci_unchanged_and_err_unchanged_where_its_square_is_normal(data):
    science, shape = data
    zero = Imset(
        np.zeros(shape, np.float32), np.zeros(shape, np.float32), np.zeros(shape, np.int16)
    )
    out = subtract_bias(science, zero)
    np.testing.assert_array_equal(out.sci, science.sci)
    np.testing.assert_array_equal(out.dq, science.dq)
    normal = (science.err >= NORMAL_SQUARE[0]) & (science.err < NORMAL_SQUARE[1])
    np.testing.assert_array_equal(out.err[normal], science.err[normal])
    # Elsewhere: float32 squaring, as calstis does it.
    e = science.err[~normal]
    np.testing.assert_array_equal(out.err[~normal], np.sqrt(e * e))


@budget(ci=40)
@given(
    data=shapes.flatmap(
        lambda s: imsets(s).flatmap(
            lambda i: reference_imsets(s, kind="bias").map(lambda b: (i, b))
        )
    )
)
@example(data=(TINY_ERR, TINY_ERR._replace(err=np.zeros((1, 2), np.float32))))
def test_biascorr_never_clears_a_dq_bit_and_err_never_shrinks_where_its_square_is_normal(data):
    science, bias = data
    out = subtract_bias(science, bias)
    assert np.array_equal(out.dq & science.dq, science.dq)
    assert np.array_equal(out.dq & bias.dq, bias.dq)
    normal = (science.err >= NORMAL_SQUARE[0]) & (science.err < NORMAL_SQUARE[1])
    assert np.all(out.err[normal] >= science.err[normal])
