import numpy as np

from reference_impl.imset import Imset
from reference_impl.steps.noise import init_errors, needs_error_init


def _imset(sci):
    sci = np.asarray(sci, np.float32)
    return Imset(sci, np.zeros_like(sci), np.zeros(sci.shape, np.int16))


def test_init_errors_uses_poisson_plus_read_noise_above_bias():
    out = init_errors(_imset([[104.0]]), bias_dn=100.0, gain_e_per_dn=1.0, readnoise_e=3.0)
    # (104 - 100) * 1 e + 3^2 = 13 -> sqrt(13) / 1
    assert out.err[0, 0] == np.float32(np.sqrt(13.0))


def test_init_errors_floor_is_readnoise_over_gain_at_or_below_bias():
    out = init_errors(_imset([[100.0, 90.0]]), bias_dn=100.0, gain_e_per_dn=4.0, readnoise_e=6.0)
    assert out.err.tolist() == [[np.float32(1.5), np.float32(1.5)]]


def test_init_errors_takes_sqrt_and_gain_division_in_double():
    sci = np.array([[1234.5678]], np.float32)
    g, r = np.float32(1.016), np.float32(5.88)
    v = np.float32(np.float32(sci[0, 0] - np.float32(0)) * g)
    want = np.float32(np.sqrt(np.float64(np.float32(v + np.float32(r * r)))) / np.float64(g))
    out = init_errors(_imset(sci), bias_dn=0.0, gain_e_per_dn=g, readnoise_e=r)
    assert out.err[0, 0] == want


def test_needs_error_init_only_when_every_err_pixel_is_zero():
    assert needs_error_init(np.zeros((2, 2), np.float32))
    assert not needs_error_init(np.array([[0, 0], [0, 1e-30]], np.float32))


def test_init_errors_does_not_modify_inputs():
    science = _imset([[5.0, 200.0]])
    before = science.copy()
    init_errors(science, bias_dn=1.0, gain_e_per_dn=2.0, readnoise_e=3.0)
    for a, b in zip(science, before, strict=True):
        np.testing.assert_array_equal(a, b)


def _spec_err(sci, bias, g, r):
    """Spec §3 pixel by pixel, in Python scalars with explicit roundings."""
    f = np.float32
    v = f(f(f(sci) - f(bias)) * f(g))
    if not v > 0:
        return f(f(r) / f(g))
    return f(np.sqrt(np.float64(f(v + f(f(r) * f(r))))) / np.float64(f(g)))


def test_init_errors_matches_the_spec_formula_for_both_gain_paths():
    rng = np.random.default_rng(3)
    sci = rng.normal(0, 300, (40, 50)).astype(np.float32)
    sci.flat[:4] = (np.nan, -0.0, 1e-30, np.float32(2.0**-149))
    for g, r, b in ((1.0, 5.0, 0.0), (4.016, 7.4, 0.0), (1.0, 3.0, 1500.25)):
        out = init_errors(_imset(sci), bias_dn=b, gain_e_per_dn=g, readnoise_e=r)
        want = [_spec_err(x, b, g, r) for x in sci.ravel().tolist()]
        np.testing.assert_array_equal(out.err.ravel(), np.array(want, np.float32))


def test_init_errors_gives_the_floor_without_warning_when_variance_is_negative():
    # v + r^2 < 0 takes a sqrt of a negative number in the C code; the floor wins.
    out = init_errors(_imset([[-1000.0]]), bias_dn=0.0, gain_e_per_dn=1.0, readnoise_e=3.0)
    assert out.err[0, 0] == np.float32(3.0)


def test_init_errors_passes_sci_through_read_only_and_returns_a_new_err():
    raw = _imset(np.full((8, 6), 100.0))
    out = init_errors(raw, bias_dn=0.0, gain_e_per_dn=1.0, readnoise_e=3.0)
    assert np.shares_memory(out.sci, raw.sci) and not out.sci.flags.writeable
    assert out.err.flags.writeable and not np.shares_memory(out.err, raw.err)
