"""CR rejection properties: identical imsets flag nothing; isolated injected hits are flagged."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from reference_impl import dqflags
from reference_impl.steps.crcorr import CRRejectParameters, parse_sigmas, reject_cosmic_rays
from tests.strategies import budget, frames
from tests.synthetic import inject_cosmic_rays, make_stack


def params(initial="median", skysub="none", sigmas="6,5,4", badinpdq=0):
    return CRRejectParameters(
        sigmas=parse_sigmas(sigmas), sigmas_text=sigmas, radius_pix=np.float32(1.5),
        thresh=np.float32(0.8), initial=initial, skysub=skysub,
        scalense_percent=np.float32(5.0), badinpdq=badinpdq, crmask=True,
    )  # fmt: skip


def run(sci, dq, p, exptime=100.0):
    n = sci.shape[0]
    return reject_cosmic_rays(
        sci, dq,
        exptime_s=np.full(n, exptime, np.float32),
        noise_dn=np.full(n, 5.4, np.float32),
        gain_e_per_dn=np.full(n, 1.0, np.float32),
        params=p,
    )  # fmt: skip


@budget(ci=30)
@given(
    frame=st.tuples(st.integers(2, 10), st.integers(2, 10)).flatmap(
        lambda s: frames(s, st.floats(-50.0, 6e4, width=32))
    ),
    n=st.integers(2, 5),
    initial=st.sampled_from(["median", "minimum"]),
    skysub=st.sampled_from(["none", "mode"]),
)
def test_cr_rejection_of_identical_imsets_flags_nothing(frame, n, initial, skysub):
    sci = np.repeat(frame[None], n, axis=0)
    dq = np.zeros(sci.shape, np.int16)
    out = run(sci, dq, params(initial, skysub))
    assert out.n_rejected == 0
    assert not np.any(out.dq & dqflags.DATAREJECT)
    assert not np.any(out.input_dq & dqflags.DATAREJECT)


@budget(ci=15)
@given(
    seed=st.integers(0, 10_000), n=st.integers(3, 6), initial=st.sampled_from(["median", "minimum"])
)
def test_isolated_injected_hits_are_all_flagged_in_their_imset(seed, n, initial):
    clean, dq = make_stack(n, (30, 40), seed=seed)
    sci, truth = inject_cosmic_rays(clean, n_hits=12, amplitude_dn=(2000.0, 8000.0), seed=seed)
    out = run(sci, dq, params(initial))
    flagged = (out.input_dq & dqflags.DATAREJECT) != 0
    assert np.all(flagged[truth])
