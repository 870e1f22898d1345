"""Seeded builders of small synthetic imsets, raw frames and CR-SPLIT stacks, with known truth.

Every builder takes a ``seed`` and uses ``np.random.default_rng(seed)``, so a
test that fails can be rerun with the same arrays.
"""

import numpy as np

from reference_impl.imset import Imset
from stischeck.synth.detector import amp_constants, bias_pattern, overscan_bias, read_out
from stischeck.synth.geometry import ReadoutGeometry, bin_to_raw, readout_geometry


def make_imset(
    shape=(16, 20),
    *,
    level_dn: float = 200.0,
    readnoise_dn: float = 3.0,
    seed: int = 0,
    err_dn: float | None = None,
    dq_bits: tuple = (),
    dq_fraction: float = 0.05,
) -> Imset:
    """
    A calibrated-looking imset: Poisson signal around ``level_dn`` plus read noise.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)``.
    level_dn : float
        Mean signal, DN (gain 1).
    readnoise_dn : float
        Gaussian read noise, DN.
    seed : int
    err_dn : float or None
        Constant ERR, DN; None leaves ERR all zero (as before ERR initialisation).
    dq_bits : tuple of int
        DQ bits sprinkled over ``dq_fraction`` of the pixels.

    Returns
    -------
    Imset
        float32 SCI and ERR (DN), int16 DQ.
    """
    rng = np.random.default_rng(seed)
    sci = rng.poisson(max(level_dn, 0.0), size=shape) + rng.normal(0.0, readnoise_dn, size=shape)
    err = np.zeros(shape) if err_dn is None else np.full(shape, err_dn)
    dq = np.zeros(shape, np.int16)
    for bit in dq_bits:
        dq[rng.uniform(size=shape) < dq_fraction] |= np.int16(bit)
    return Imset(sci.astype(np.float32), err.astype(np.float32), dq)


def make_raw_frame(
    amp: str = "D",
    binning=(4, 4),
    subarray=None,
    *,
    gain: int = 1,
    seed: int = 0,
    signal_e: float = 50.0,
) -> tuple[Imset, ReadoutGeometry]:
    """
    A raw CCD readout with overscan, as stischeck.synth makes it (flat signal, bias, noise).

    Returns
    -------
    (Imset, ReadoutGeometry)
        SCI float32 DN with overscan (uint16 values), ERR zero, DQ zero.
    """
    rng = np.random.default_rng(seed)
    geo = readout_geometry(amp, binning, subarray)
    c = amp_constants(amp, gain, binning)
    v0, v1 = geo.rows
    electrons = rng.poisson(signal_e, size=(v1 - v0, 1024)).astype(np.float64)
    bias = bias_pattern((geo.ny, geo.nx), 0.3, rng) + overscan_bias(
        geo,
        level_dn=c.ccdbias_dn,
        row_drift_dn=2.0,
        col_drift_dn=1.0,
        ripple_dn=0.3,
        ripple_phase=0.4,
    )
    dn = read_out(
        bin_to_raw(electrons, geo), bias, atodgain=c.atodgain, readnoise_e=c.readnoise_e, rng=rng
    )
    shape = dn.shape
    return Imset(dn.astype(np.float32), np.zeros(shape, np.float32), np.zeros(shape, np.int16)), geo


def make_stack(n=4, shape=(30, 40), *, level_dn=200.0, readnoise_dn=3.0, seed=0):
    """``n`` exposures of the same scene: float32 SCI stack (n, ny, nx) and a zero DQ stack."""
    rng = np.random.default_rng(seed)
    scene = rng.uniform(0.5, 1.5, size=shape) * level_dn
    sci = rng.poisson(scene, size=(n, *shape)) + rng.normal(0.0, readnoise_dn, size=(n, *shape))
    return sci.astype(np.float32), np.zeros((n, *shape), np.int16)


def inject_cosmic_rays(stack, *, n_hits=20, amplitude_dn=(500.0, 5000.0), seed=0, margin=2):
    """
    Add isolated single-pixel hits to a stack; each pixel is hit in at most one imset.

    Hits are at least 3 pixels apart (so that CRRADIUS spill of one does not
    reach another) and ``margin`` pixels from the edges.

    Returns
    -------
    (stack, truth)
        A new float32 stack and a bool array of the same shape, True where a hit was added.
    """
    rng = np.random.default_rng(seed)
    out = np.array(stack, dtype=np.float32, copy=True)
    n, ny, nx = out.shape
    truth = np.zeros(out.shape, bool)
    taken: list[tuple[int, int]] = []
    tries = 0
    while len(taken) < n_hits and tries < 100 * n_hits:
        tries += 1
        y = int(rng.integers(margin, ny - margin))
        x = int(rng.integers(margin, nx - margin))
        if any(abs(y - yy) < 4 and abs(x - xx) < 4 for yy, xx in taken):
            continue
        k = int(rng.integers(0, n))
        out[k, y, x] += np.float32(rng.uniform(*amplitude_dn))
        truth[k, y, x] = True
        taken.append((y, x))
    return out, truth
