"""Derive more raw exposures from the corpus's full-frame case, for live calstis comparisons.

The corpus has one full-frame unbinned exposure (amp D, gain 1). Most real
STIS CCD data are full frame, on any amplifier and both gains, and some are
binned 1x2 or 2x1 or read as subarrays. These builders rearrange that
exposure's pixels into those readouts (flipping for the amplifier, summing
for binning, cutting for subarrays) and set the geometry keywords
(LTV/LTM/CRPIX, CCDAMP, CCDGAIN, BINAXISi) as such a readout has them. The
pixel values stay physically plausible (real overscan stays overscan); the
point is to exercise calstis's geometry and arithmetic, not new physics.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits

from stischeck.vocabulary import CALIBRATION_SWITCHES

FULL_CASE = "img_ampD_g1_full_cr2"

#: Switch sets compared for each derived exposure (no multi-imset CRCORR).
CONFIGURATIONS = {
    "upto_dqicorr": ("DQICORR",),
    "upto_blevcorr": ("DQICORR", "BLEVCORR"),
    "upto_biascorr": ("DQICORR", "BLEVCORR", "BIASCORR"),
    "all_but_crcorr": ("DQICORR", "BLEVCORR", "BIASCORR", "DARKCORR", "FLATCORR"),
    "upto_crcorr": ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR"),
    "upto_darkcorr": ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "DARKCORR"),
    "upto_flatcorr": ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "DARKCORR", "FLATCORR"),
    "upto_flatcorr_expscorr": (
        "DQICORR",
        "BLEVCORR",
        "BIASCORR",
        "CRCORR",
        "DARKCORR",
        "FLATCORR",
        "EXPSCORR",
    ),
}
SINGLE_CONFIGURATIONS = {
    "only_darkcorr_after_blev": ("BLEVCORR", "DARKCORR"),
    "only_flatcorr_after_blev": ("BLEVCORR", "FLATCORR"),
    "blev_dark_flat_no_dqi": ("BLEVCORR", "DARKCORR", "FLATCORR"),
}


@dataclass
class DerivedCase:
    """A raw file to write and the switch sets to run it with."""

    name: str
    amp: str = "D"
    gain: int = 1
    bin_xy: tuple[int, int] = (1, 1)
    rows: tuple[int, int] | None = None  # detector rows [first, last) of a subarray
    configurations: dict = field(default_factory=lambda: dict(CONFIGURATIONS))
    zero_exptime_imset: int | None = None
    dummy: str | None = None  # reference keyword whose file gets PEDIGREE = DUMMY
    blank: str | None = None  # reference keyword set to N/A


def derived_cases() -> list[DerivedCase]:
    cases = [DerivedCase(f"full_amp{a}_g{g}", amp=a, gain=g) for a in "ABCD" for g in (1, 4)]
    cases[-1].configurations.update(SINGLE_CONFIGURATIONS)
    cases += [
        DerivedCase("bin1x2_ampD_g1", bin_xy=(1, 2)),
        DerivedCase("bin2x1_ampA_g4", amp="A", gain=4, bin_xy=(2, 1)),
        DerivedCase("bin2x2_ampB_g1", amp="B", bin_xy=(2, 2)),
        DerivedCase("sub100_ampA_g4_rows300", amp="A", gain=4, rows=(300, 400)),
        DerivedCase("sub64_ampC_g1_rows900", amp="C", rows=(900, 964)),
        DerivedCase("full_ampD_imset2_exptime0", zero_exptime_imset=2),
        DerivedCase("full_ampD_dummy_bias", dummy="BIASFILE"),
        DerivedCase("full_ampD_dummy_bpixtab", dummy="BPIXTAB"),
        DerivedCase("full_ampD_no_bpixtab", blank="BPIXTAB"),
    ]
    return cases


def _flip_for_amp(a: np.ndarray, amp: str) -> np.ndarray:
    """Amp D data rearranged as amp ``amp`` reads it: B/D mirror columns, C/D mirror rows."""
    flip_x = amp not in "BD"  # the source is amp D data: columns already mirrored
    flip_y = amp not in "CD"  # ... and rows already mirrored
    if flip_x:
        a = a[:, ::-1]
    if flip_y:
        a = a[::-1, :]
    return a


def _bin(a: np.ndarray, bx: int, by: int) -> np.ndarray:
    ny, nx = a.shape
    a = a[: ny - ny % by, : nx - nx % bx].astype(np.int64)
    s = a.reshape(ny // by, by, nx // bx, bx).sum(axis=(1, 3))
    return np.clip(s, 0, 65535)


def write_derived(case: DerivedCase, corpus: Path, dest: Path) -> tuple[Path, Path]:
    """Write the derived raw file and an oref folder; return ``(raw, oref)``."""
    src = corpus / FULL_CASE
    manifest = json.loads((src / "manifest.json").read_text())
    root = manifest["params"]["rootname"]
    dest.mkdir(parents=True, exist_ok=True)
    oref = dest / "oref"
    oref.mkdir(exist_ok=True)
    for f in (src / "oref").iterdir():
        target = oref / f.name
        if not target.exists():
            target.symlink_to(f)
    with fits.open(src / f"{root}_raw.fits.gz") as hdul:
        primary = hdul[0].header
        primary["CCDAMP"], primary["CCDGAIN"] = case.amp, case.gain
        bx, by = case.bin_xy
        primary["BINAXIS1"], primary["BINAXIS2"] = bx, by
        for ext in range(1, len(hdul)):
            hdu = hdul[ext]
            h = hdu.header
            if h["EXTNAME"] == "SCI":
                data = _flip_for_amp(np.asarray(hdu.data), case.amp)
            # Unbinned overscan offsets of the illuminated area for this amp.
            off_x, off_y = 19.0, (20.0 if case.amp in "CD" else 0.0)
            if case.rows is not None:
                first, last = case.rows
                y0 = first + int(off_y)
                if h["EXTNAME"] == "SCI":
                    data = data[y0 : y0 + (last - first), 1:1061]
                ltv = (18.0, -float(first))
                ltm = (1.0, 1.0)
                shape = (last - first, 1060)
                primary["SUBARRAY"] = True
                primary["SIZAXIS2"] = last - first
            else:
                if h["EXTNAME"] == "SCI" and (bx, by) != (1, 1):
                    data = _bin(data, bx, by)
                ltv = ((off_x + (bx - 1) / 2) / bx, (off_y + (by - 1) / 2) / by)
                ltm = (1.0 / bx, 1.0 / by)
                shape = (1044 // by, 1062 // bx)
            h["LTV1"], h["LTV2"], h["LTM1_1"], h["LTM2_2"] = ltv[0], ltv[1], ltm[0], ltm[1]
            h["CRPIX1"], h["CRPIX2"] = 512.0 * ltm[0] + ltv[0], 512.0 * ltm[1] + ltv[1]
            if h["EXTNAME"] == "SCI":
                hdu.data = data.astype(np.uint16)
                if case.zero_exptime_imset == h["EXTVER"]:
                    h["EXPTIME"] = 0.0
            else:
                h["NPIX1"], h["NPIX2"] = shape[1], shape[0]
        if case.dummy:
            name = primary[case.dummy].split("$", 1)[1]
            with fits.open(src / "oref" / f"{name}.gz") as ref:
                ref[0].header["PEDIGREE"] = "DUMMY"
                (oref / f"dummy_{name}").unlink(missing_ok=True)
                ref.writeto(oref / f"dummy_{name}")
            primary[case.dummy] = f"oref$dummy_{name}"
        if case.blank:
            primary[case.blank] = "N/A"
        raw = dest / f"{root}_raw.fits"
        hdul.writeto(raw, overwrite=True)
    return raw, oref


def set_switches(raw: Path, perform: tuple[str, ...], dest: Path) -> Path:
    """Copy ``raw`` into ``dest`` with exactly ``perform`` switched to PERFORM."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / raw.name
    with fits.open(raw) as hdul:
        for sw in CALIBRATION_SWITCHES:
            hdul[0].header[sw] = "PERFORM" if sw in perform else "OMIT"
        hdul.writeto(out, overwrite=True)
    return out
