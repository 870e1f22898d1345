"""Block-wise CR rejection against the whole-frame version it replaced, bit for bit."""

import numpy as np
import pytest

from reference_impl import dqflags
from reference_impl.numerics import BLOCK_ROWS
from reference_impl.steps import crcorr
from reference_impl.steps.crcorr import CRRejectParameters, parse_sigmas, reject_cosmic_rays
from tests.unit.oracles import crcorr_v1


def _params(**kw):
    base = dict(
        sigmas=parse_sigmas("6,5,4"),
        sigmas_text="6,5,4",
        radius_pix=np.float32(1.5),
        thresh=np.float32(0.8),
        initial="median",
        skysub="mode",
        scalense_percent=np.float32(5.0),
        badinpdq=256,
        crmask=True,
    )
    base.update(kw)
    return CRRejectParameters(**base)


def _stack(n, shape, seed, *, n_hits=300, n_bad=200, nan=False):
    rng = np.random.default_rng(seed)
    sci = rng.poisson(80.0, (n, *shape)).astype(np.float32)
    sci += rng.normal(0, 4.0, sci.shape).astype(np.float32)
    sci[:, 10:14, :] += np.float32(5000.0)  # a bright band across block boundaries
    dq = np.zeros(sci.shape, np.int16)
    for k in range(n):
        # Cosmic rays, some in clusters so that spills chain along rows and columns.
        j = rng.integers(0, shape[0], n_hits)
        i = rng.integers(0, shape[1], n_hits)
        sci[k, j, i] += rng.uniform(200, 5000, n_hits).astype(np.float32)
        sci[k, np.clip(j + 1, 0, shape[0] - 1), i] += np.float32(900.0)
        # Bad input pixels (BADINPDQ) next to hits: excluded pixels that get spilled.
        jb = np.clip(j[:n_bad] + rng.integers(-1, 2, n_bad), 0, shape[0] - 1)
        ib = np.clip(i[:n_bad] + rng.integers(-1, 2, n_bad), 0, shape[1] - 1)
        dq[k, jb, ib] |= np.int16(dqflags.SATPIXEL)
        dq[k, rng.integers(0, shape[0], 50), rng.integers(0, shape[1], 50)] |= np.int16(
            dqflags.HOTPIX
        )
        dq[k, rng.integers(0, shape[0], 20), rng.integers(0, shape[1], 20)] |= np.int16(
            dqflags.DATAREJECT
        )
    if nan:
        sci[1, 5, 7] = np.nan
    return sci, dq


def _run(module, sci, dq, params, exptime):
    n = sci.shape[0]
    return module.reject_cosmic_rays(
        sci,
        dq,
        exptime_s=np.asarray(exptime, np.float32),
        noise_dn=np.full(n, np.float32(5.88 / 1.029), np.float32),
        gain_e_per_dn=np.full(n, np.float32(1.029), np.float32),
        params=params,
    )


def _assert_same(new, old):
    for name in ("sci", "err", "dq", "input_dq", "sky_dn"):
        a, b = getattr(new, name), getattr(old, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), name  # bit for bit
    for name in ("skysum_dn", "n_rejected", "texpt_s", "exptot_s"):
        assert getattr(new, name) == getattr(old, name), name


CASES = {
    "median, sky mode, n=2": dict(n=2),
    "median, n=3": dict(n=3),
    "median, n=4, no sky": dict(n=4, params=dict(skysub="none")),
    "minimum guess": dict(n=3, params=dict(initial="minimum")),
    "radius 2.5 (two rows of reach)": dict(n=2, params=dict(radius_pix=np.float32(2.5))),
    "radius 0.5 (no neighbours)": dict(n=2, params=dict(radius_pix=np.float32(0.5))),
    "crthresh <= 0 spills everything": dict(n=2, params=dict(thresh=np.float32(0.0))),
    "no badinpdq, no crmask": dict(n=3, params=dict(badinpdq=0, crmask=False)),
    "one sigma": dict(n=2, params=dict(sigmas=parse_sigmas("4"), sigmas_text="4")),
    "zero exposure times": dict(n=2, exptime=[0.0, 0.0]),
    "unequal exposure times": dict(n=3, exptime=[100.0, 250.5, 99.75]),
    "a NaN": dict(n=3, nan=True, params=dict(skysub="none")),
    "odd height, narrow": dict(n=2, shape=(2 * BLOCK_ROWS + 7, 33)),
    "one block": dict(n=2, shape=(9, 40)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_block_wise_rejection_equals_the_whole_frame_version(name):
    case = CASES[name]
    n = case["n"]
    shape = case.get("shape", (3 * BLOCK_ROWS + 5, 120))
    sci, dq = _stack(n, shape, seed=len(name), nan=case.get("nan", False))
    params = _params(**case.get("params", {}))
    exptime = case.get("exptime", [100.0] * n)
    old_params = crcorr_v1.CRRejectParameters(**vars(params))
    with np.errstate(invalid="ignore"):
        new = _run(crcorr, sci, dq, params, exptime)
        old = _run(crcorr_v1, sci, dq, old_params, exptime)
    assert old.n_rejected > 0 or name == "radius 0.5 (no neighbours)"
    _assert_same(new, old)


def test_block_wise_rejection_takes_a_list_of_imsets():
    sci, dq = _stack(2, (70, 50), seed=1)
    params = _params()
    a = _run(crcorr, sci, dq, params, [100.0, 100.0])
    b = reject_cosmic_rays(
        list(sci),
        list(dq),
        exptime_s=np.full(2, 100.0, np.float32),
        noise_dn=np.full(2, np.float32(5.88 / 1.029), np.float32),
        gain_e_per_dn=np.full(2, np.float32(1.029), np.float32),
        params=params,
        flag_inputs=False,
    )
    assert b.input_dq is None
    for name in ("sci", "err", "dq"):
        assert np.array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("seed", range(4))
def test_sky_mode_equals_the_whole_frame_version(seed):
    rng = np.random.default_rng(seed)
    sci = rng.normal(30 * seed - 20, 15, (3 * BLOCK_ROWS + 3, 77)).astype(np.float32)
    dq = np.where(rng.random(sci.shape) < 0.3, 16, 0).astype(np.int16)
    dq[:BLOCK_ROWS] = 4 if seed == 3 else dq[:BLOCK_ROWS]  # an empty block
    assert crcorr.sky_mode(sci, dq) == crcorr_v1.sky_mode(sci, dq)
