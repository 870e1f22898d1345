"""CR rejection as it was before the block-wise rewrite (commit 77ffea2), kept as an oracle.

Validated bit for bit against calstis 3.5.0 on the corpus and the live
differential suite; the block-wise version must give the same numbers.
"""
# ruff: noqa

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from reference_impl import dqflags

__all__ = ["CRRejectParameters", "CRRejectResult", "sky_mode", "reject_cosmic_rays", "parse_sigmas"]

_F = np.float32
MIN_SKY_DN = -1000


@dataclass(frozen=True)
class CRRejectParameters:
    """One CRREJTAB row, as calstis2 uses it.

    Attributes
    ----------
    sigmas : tuple of numpy.float32
        Rejection thresholds, one iteration each (CRSIGMAS parsed).
    sigmas_text : str
        CRSIGMAS as written in the table (echoed in the header).
    radius_pix : numpy.float32
        CRRADIUS, pixels.
    thresh : numpy.float32
        CRTHRESH, the spill threshold factor.
    initial : str
        ``"median"`` or ``"minimum"`` (first three letters decide).
    skysub : str
        ``"mode"`` or ``"none"`` (forced to none for spectroscopy by the caller).
    scalense_percent : numpy.float32
        SCALENSE, multiplicative noise in percent.
    badinpdq : int
        Input DQ bits excluded from the combination.
    crmask : bool
        Write the per-imset CR flags back into the inputs.
    """

    sigmas: tuple
    sigmas_text: str
    radius_pix: np.float32
    thresh: np.float32
    initial: str
    skysub: str
    scalense_percent: np.float32
    badinpdq: int
    crmask: bool


@dataclass(frozen=True)
class CRRejectResult:
    """The combined image and what calstis2 reports about it.

    Attributes
    ----------
    sci : ndarray of float32
        Sum over the whole exposure time in DN, sky added back.
    err : ndarray of float32
        Its uncertainty, DN.
    dq : ndarray of int16
        OR of the inputs (8192 removed), plus 8192 where every imset was rejected.
    input_dq : ndarray of int16, shape (n, ny, nx)
        Each input's DQ with this run's CR flags (when CRMASK), else unchanged.
    sky_dn : ndarray of float32
        Sky of each imset, DN.
    skysum_dn : numpy.float32
        Sum of the skies.
    n_rejected : int
        HIT + SPILL pixels over all imsets in the last iteration.
    texpt_s : numpy.float32
        Exposure time the rate is scaled to (``n`` when every EXPTIME is 0).
    exptot_s : numpy.float32
        Sum of the EXPTIMEs.
    """

    sci: NDArray[np.float32]
    err: NDArray[np.float32]
    dq: NDArray[np.int16]
    input_dq: NDArray[np.int16]
    sky_dn: NDArray[np.float32]
    skysum_dn: np.float32
    n_rejected: int
    texpt_s: np.float32
    exptot_s: np.float32


def parse_sigmas(text: str) -> tuple:
    """Parse CRSIGMAS (``"6,5,4"``; separators , ; / or blanks) into float32 values."""
    import re

    parts = [p for p in re.split(r"[,;/\s]+", text.strip()) if p]
    return tuple(_F(float(p)) for p in parts)


def _cr_mode(hist: NDArray[np.int64], hmin: float) -> np.float32:
    """The histogram's mode with parabolic interpolation (cr_mode.c), 1-DN bins."""
    nbins = hist.size
    hwidth = 1.0
    hmin = float(_F(hmin))
    if nbins == 1:
        return _F(hmin + 0.5 * hwidth)
    if nbins == 2:
        if hist[0] > hist[1]:
            return _F(hmin + 0.5 * hwidth)
        if hist[1] > hist[0]:
            return _F(hmin + 1.5 * hwidth)
        return _F(hmin + hwidth)
    bpeak = int(np.argmax(hist))  # first highest bin
    if bpeak == 0:
        return _F(hmin + 0.5 * hwidth)
    if bpeak == nbins - 1:
        return _F(hmin + (nbins - 0.5) * hwidth)
    dh1 = _F(hist[bpeak] - hist[bpeak - 1])
    dh2 = _F(hist[bpeak] - hist[bpeak + 1])
    denom = _F(dh1 + dh2)
    if abs(float(denom)) < 1e-20:
        return _F(hmin + (bpeak + 0.5) * hwidth)
    mode = _F(bpeak + 1 + 0.5 * float(_F(dh1 - dh2)) / float(denom))
    return _F(hmin + (float(mode) - 0.5) * hwidth)


def sky_mode(sci: NDArray[np.float32], dq: NDArray[np.int16]) -> np.float32:
    """
    Sky level of one imset: the mode of the DQ == 0 pixels (crrej_sky.c, cr_mode.c).

    Parameters
    ----------
    sci : ndarray of float32
        Imset SCI, DN.
    dq : ndarray of int16
        Only pixels with DQ exactly 0 are used.

    Returns
    -------
    numpy.float32
        Sky in DN.

    Notes
    -----
    The histogram has 1-DN bins from ``trunc(min(0, min)) - 1`` (or -1000) to
    ``trunc(mean + 1) * 2``, the mean being a sequential float32 sum over the
    count; a value goes to bin ``trunc(value) - lo``.
    """
    values = sci[dq == 0].astype(_F)
    amin = min(0.0, float(values.min())) if values.size else 0.0
    total = np.cumsum(values, dtype=_F)[-1] if values.size else _F(0)
    lo = MIN_SKY_DN if amin < MIN_SKY_DN else int(amin) - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        amax = _F(total / _F(values.size))
    hi = 1 if amax <= 0 else int(float(amax) + 1.0) * 2
    nbins = hi - lo + 1
    h = np.trunc(values.astype(np.float64)).astype(np.int64) - lo
    h = h[(h >= 0) & (h < nbins)]
    hist = np.bincount(h, minlength=nbins)
    return _cr_mode(hist, float(lo))


def _circle_offsets(radius: np.float32) -> list[tuple[int, int]]:
    """Neighbour offsets ``(dj, di)`` within CRRADIUS (crrej_loop.c)."""
    width = int(float(radius) + 1e-5)
    rej2 = _F(radius * radius)
    return [
        (dj, di)
        for dj in range(-width, width + 1)
        for di in range(-width, width + 1)
        if not float(di * di + dj * dj) > float(rej2)
    ]


def _shifted_any(mask: NDArray[np.bool_], offsets) -> NDArray[np.bool_]:
    """True where some pixel at one of ``offsets`` from it is True (inside the image)."""
    ny, nx = mask.shape
    out = np.zeros_like(mask)
    for dj, di in offsets:
        src = mask[max(dj, 0) : ny + min(dj, 0), max(di, 0) : nx + min(di, 0)]
        out[max(-dj, 0) : ny + min(-dj, 0), max(-di, 0) : nx + min(-di, 0)] |= src
    return out


def _hits_and_spills(cond, spillable, excluded, offsets):
    """Resolve the raster-order HIT/SPILL marking of one imset (crrej_loop.c).

    Non-excluded pixels above threshold are hits. An excluded pixel above
    threshold becomes a hit only if an earlier hit (raster order) spilled it,
    so those few are resolved one by one in raster order. Every neighbour of
    a hit that is above the spill threshold and not itself a hit is a spill.
    """
    hit = cond & ~excluded
    candidates = np.argwhere(cond & excluded & spillable)
    if candidates.size:
        ny, nx = hit.shape
        for j, i in candidates:  # row-major order = raster order
            for dj, di in offsets:
                jj, ii = j + dj, i + di
                if not (0 <= jj < ny and 0 <= ii < nx):
                    continue
                if (jj, ii) < (j, i) and hit[jj, ii]:
                    hit[j, i] = True
                    break
    spill = _shifted_any(hit, offsets) & spillable & ~hit
    return hit, spill


def reject_cosmic_rays(
    sci: NDArray[np.float32],
    dq: NDArray[np.int16],
    *,
    exptime_s: NDArray[np.float32],
    noise_dn: NDArray[np.float32],
    gain_e_per_dn: NDArray[np.float32],
    params: CRRejectParameters,
) -> CRRejectResult:
    """
    Combine a CR-SPLIT stack, rejecting cosmic rays (calstis2).

    Parameters
    ----------
    sci : ndarray of float32, shape (n, ny, nx)
        SCI of the usable imsets (IMSET_OK not F), DN, after part-a calibration.
    dq : ndarray of int16, shape (n, ny, nx)
        Their DQ arrays.
    exptime_s : ndarray of float32, shape (n,)
        EXPTIME of each imset (all zero means equal weights).
    noise_dn : ndarray of float32, shape (n,)
        Read noise in DN, ``f32(READNSE / ATODGAIN)`` from the header values.
    gain_e_per_dn : ndarray of float32, shape (n,)
        ATODGAIN of each imset.
    params : CRRejectParameters
        The selected CRREJTAB row.

    Returns
    -------
    CRRejectResult
        The combined image, per-imset CR flags and bookkeeping.

    Notes
    -----
    Threshold in iteration ``it`` with ``sigma``: ``sigma^2 (noise^2 + val/gain +
    (s*pixsky)^2) / efac^2`` where ``val = max(ave*efac + sky, 0)`` and ``pixsky =
    max(ave*efac, 0)``; a pixel of imset k is a HIT when ``(pic - ave)^2`` exceeds
    it; neighbours within CRRADIUS above ``CRTHRESH^2 * spthr`` are SPILL. The
    new ``ave`` is the exposure-weighted mean of the remaining pixels; every
    imset is compared with the previous iteration's ``ave``.
    """
    n, ny, nx = sci.shape
    if n < 2:
        raise ValueError("cosmic-ray rejection needs two or more usable imsets")
    efac = np.asarray(exptime_s, dtype=_F).copy()
    noise = np.asarray(noise_dn, dtype=_F)
    gain = np.asarray(gain_e_per_dn, dtype=_F)
    exptot = np.cumsum(efac, dtype=_F)[-1]
    if exptot == 0:
        efac[:] = _F(1.0)
        texpt = _F(n)
    else:
        texpt = _F(exptot)
    scale = _F(float(params.scalense_percent) / 100.0)
    crflag = np.int16(dqflags.DATAREJECT)
    nocr = np.int16(~dqflags.DATAREJECT)

    if params.skysub == "mode":
        sky = np.array([sky_mode(sci[k], dq[k]) for k in range(n)], dtype=_F)
    else:
        sky = np.zeros(n, dtype=_F)

    pics = np.stack([((sci[k] - sky[k]) / efac[k]).astype(_F) for k in range(n)])
    is_minimum = params.initial[:3] != "med"
    if not is_minimum:
        ordered = np.sort(pics, axis=0)
        if n % 2:
            ave = ordered[n // 2].copy()
        else:
            ave = ((ordered[n // 2 - 1] + ordered[n // 2]) / _F(2.0)).astype(_F)
        avevar = None
    else:
        ave = pics[0].copy()
        avevar = None
        for k in range(n):
            raw = sci[k]
            raw0 = np.where(raw > 0, raw, _F(0))
            signal0 = (raw - sky[k]).astype(_F)
            signal0 = np.where(signal0 > 0, signal0, _F(0))
            s0 = (scale * signal0).astype(_F)
            var = (
                ((noise[k] * noise[k]) + (raw0 / gain[k]).astype(_F)).astype(_F)
                + (s0 * s0).astype(_F)
            ).astype(_F)
            var = (var / _F(efac[k] * efac[k])).astype(_F)
            if k == 0:
                avevar = var
            else:
                take = pics[k] < ave
                ave = np.where(take, pics[k], ave)
                avevar = np.where(take, var, avevar)

    offsets = _circle_offsets(params.radius_pix)
    psig2 = _F(-1.0) if params.thresh <= 0 else _F(params.thresh * params.thresh)
    excluded_all = (dq & np.int16(params.badinpdq)) != 0
    n_iter = len(params.sigmas)
    out_dq = np.full((ny, nx), crflag, dtype=np.int16)
    input_dq = dq.copy()
    n_rejected = 0
    efacsum = np.zeros((ny, nx), dtype=_F)
    sumvar = np.zeros((ny, nx), dtype=_F)
    for it, sigma in enumerate(params.sigmas):
        sig2 = _F(sigma * sigma)
        last = it == n_iter - 1
        total = np.zeros((ny, nx), dtype=_F)
        efacsum = np.zeros((ny, nx), dtype=_F)
        n_rejected = 0
        for k in range(n):
            rog2 = _F(noise[k] * noise[k])
            exp2 = _F(efac[k] * efac[k])
            if is_minimum and it == 0:
                thresh = (sig2 * avevar).astype(_F)
                spthresh = thresh
            else:
                dum = ((ave * efac[k]).astype(_F) + sky[k]).astype(_F)
                val = np.where(dum > 0, dum, _F(0))
                pixsky = (dum - sky[k]).astype(_F)
                pixsky = np.where(pixsky > 0, pixsky, _F(0))
                base = (rog2 + (val / gain[k]).astype(_F)).astype(_F)
                sp = (scale * pixsky).astype(_F)
                thresh = (
                    (sig2 * (base + (sp * sp).astype(_F)).astype(_F)).astype(_F) / exp2
                ).astype(_F)
                spthresh = ((sig2 * base).astype(_F) / exp2).astype(_F)
            pic = pics[k]
            d = (pic - ave).astype(_F)
            d2 = (d * d).astype(_F)
            cond = d2 > thresh
            spillable = ~(d2 <= (psig2 * spthresh).astype(_F))
            hit, spill = _hits_and_spills(cond, spillable, excluded_all[k], offsets)
            rejected = hit | spill
            ok = ~rejected & ~excluded_all[k]
            total = np.where(ok, (total + (pic * efac[k]).astype(_F)).astype(_F), total)
            efacsum = np.where(ok, (efacsum + efac[k]).astype(_F), efacsum)
            if last:
                dum = ((pic * efac[k]).astype(_F) + sky[k]).astype(_F)
                val = np.where(dum > 0, dum, _F(0))
                sv = (scale * val).astype(_F)
                term = (
                    (rog2 + (val / gain[k]).astype(_F)).astype(_F) + (sv * sv).astype(_F)
                ).astype(_F)
                sumvar = np.where(ok, (sumvar + term).astype(_F), sumvar)
                own = (input_dq[k] & nocr).astype(np.int16)
                merged = (out_dq | own).astype(np.int16)
                out_dq = np.where(rejected, merged, merged & nocr).astype(np.int16)
                n_rejected += int(np.count_nonzero(rejected))
                if params.crmask:
                    input_dq[k] = np.where(rejected, own | crflag, own).astype(np.int16)
        good = efacsum > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            new_ave = (total / np.where(good, efacsum, _F(1))).astype(_F)
        ave = np.where(good, new_ave, _F(0) if last else ave).astype(_F)

    with np.errstate(divide="ignore", invalid="ignore"):
        err_rate = (
            np.sqrt(sumvar.astype(np.float64)) / np.where(good, efacsum, 1).astype(np.float64)
        ).astype(_F)
    err_rate = np.where(good, err_rate, _F(0)).astype(_F)
    skysum = np.cumsum(sky, dtype=_F)[-1]
    out_sci = ((ave * texpt).astype(_F) + skysum).astype(_F)
    out_err = (err_rate * texpt).astype(_F)
    return CRRejectResult(
        out_sci, out_err, out_dq, input_dq, sky, _F(skysum), n_rejected, _F(texpt), _F(exptot)
    )
