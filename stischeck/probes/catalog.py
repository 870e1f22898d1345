"""The known calstis issues in the 2-D CCD path, each with a seeded synthetic reproducer.

Every probe writes its input with `stischeck.synth` (a fixed seed, so the same
bytes every time), edits it where the issue needs it (`stischeck.probes.rawedit`),
sets the switches it needs, and decides from the exit status, the signal, the
products and the trailer. The issues and where their facts come from:

* hstcal #221 (https://github.com/spacetelescope/hstcal/issues/221, open): when
  the CR-rejection inputs have null DQ arrays, "the CR flags just disappear"
  (reported for wf3rej/acsrej, "maybe even ocrreject"). In calstis2
  (``pkg/stis/lib/cs2/crrej_loop.c``) the flags go back into the input DQ
  through ``openUpdateImage``/``putShortLine`` when CRMASK is set; with
  EXPSCORR = PERFORM those inputs become the ``_flt``. The reproducer's
  part-a output has null DQ extensions (checked by
  ``tests/probes/test_probes_live.py``); calstis 3.5.0 writes the flags
  anyway (with ``cs0.e -s`` the kept ``_blv_tmp`` has full DQ arrays after the
  rejection), so this STIS path does not show #221.
* hstcal #307 (https://github.com/spacetelescope/hstcal/issues/307, open): the
  median/minimum initial guess of CR rejection ignores DQ flags
  (``crrej_init.c``); a pixel flagged BADINPDQ in most imsets drags the guess,
  and the one good value is then rejected as a cosmic ray (``crrej_loop.c``).
* The SIGSEGV of calstis2 on a null DQ with SKYSUB = mode: ``crrej_sky.c``
  reads the DQ through a descriptor from ``openInputImage`` whose header was
  never read, and hstio's ``getShortData`` looks PIXVALUE up in it (pinned in
  ``tests/differential/test_synthetic_vs_live_calstis.py``).
* EXPTIME = 0 in one imset: ``cs1/do2d.c`` (Phil Hodge, 2008-11-03) flags it
  ``IMSET_OK = F`` and writes it uncalibrated; ``cs2/crrej_check.c`` leaves it
  out of the rejection.
* CR-SPLIT imsets of different sizes: ``cs2/crrej_check.c`` refuses them ("does
  not have the same size as the first image").
* Long rootnames and paths: calstis 3.5.0 (pkg/stis/CHANGELOG.txt, hstcal
  590ff1fb "(STIS) Variadic trl functions (#658)") "fixes conditions leading
  to segfaults due to buffer overflows, mostly from trailer file functions
  (trlerror, trlwarn) attempting to report messages larger than the line
  buffer"; file names are limited to 255 characters (``CHAR_FNAME_LENGTH``).
"""

from pathlib import Path

import numpy as np
from astropy.io import fits

from stischeck.probes import rawedit
from stischeck.probes.model import (
    COULD_NOT_RUN,
    FAILS,
    FIXED,
    STILL_PRESENT,
    Probe,
    ProbeInput,
    RunFacts,
    Verdict,
)

__all__ = ["PROBES", "CONTROLS", "probe_names", "select", "read_dq", "CR_FLAG"]

#: calstis2's cosmic-ray DQ flag (``o_cal2_in.c``: ``par->crval = 8192``).
CR_FLAG = 8192
#: DQ bit the #307 reproducer marks its pixels with (SATPIXEL; BADINPDQ of the CRREJTAB row used).
_SATPIXEL = 256

_BLEV_CR = ("BLEVCORR", "CRCORR")
_TO_CRCORR = ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR")


def _stage(raw: Path, workdir: Path, performed: tuple, *, subdir: str = "", name=None) -> Path:
    """The copy cs0.e runs on: every switch OMIT except ``performed`` (spec §1)."""
    from stischeck.config import explicit
    from stischeck.runners.outcome import prepare_input

    switches = explicit(list(performed)).switch_dict
    return prepare_input(raw, Path(workdir) / subdir if subdir else workdir, switches, name=name)


def _synth(params, workdir: Path):
    from stischeck.synth import write_dataset

    return write_dataset(params, Path(workdir) / "data")


def read_dq(path: Path) -> list:
    """
    Every DQ array of a product, null extensions expanded.

    Returns
    -------
    list of numpy.ndarray
        int16 arrays ``(ny, nx)``, in EXTVER order.
    """
    out = []
    with fits.open(path) as hdul:
        for hdu in hdul[1:]:
            if hdu.header.get("EXTNAME") != "DQ":
                continue
            if hdu.header["NAXIS"] == 0:
                shape = (hdu.header["NPIX2"], hdu.header["NPIX1"])
                out.append(np.full(shape, hdu.header.get("PIXVALUE", 0), dtype=np.int16))
            else:
                out.append(np.asarray(hdu.data, dtype=np.int16))
    return out


def _needs(facts: RunFacts, *suffixes: str) -> Verdict | None:
    """A `FAILS` verdict when the run exited non-zero or a product is missing; else None."""
    if facts.returncode:
        return Verdict(FAILS, facts.message or f"exit status {facts.returncode}")
    missing = [s for s in suffixes if s not in facts.products]
    if missing:
        return Verdict(FAILS, f"exited 0 but wrote no _{'/_'.join(missing)}")
    return None


def _raw_ltv(raw: Path) -> tuple:
    header = fits.getheader(raw, ("SCI", 1))
    return (header.get("LTV2", 0.0), header.get("LTV1", 0.0))


def _product_pixels(product: Path, raw_ltv: tuple, pixels: list) -> list:
    """Raw ``(y, x)`` -> the product's ``(y, x)`` through both files' LTV (unbinned)."""
    header = fits.getheader(product, ("SCI", 1))
    ltv = (header.get("LTV2", 0.0), header.get("LTV1", 0.0))
    dy, dx = (int(round(p - r)) for p, r in zip(ltv, raw_ltv, strict=True))
    return [(y + dy, x + dx) for y, x in pixels]


def _excess(sci: np.ndarray, y: int, x: int) -> float:
    """SCI at ``(y, x)`` above the median of the same row 3..8 columns either side, DN."""
    row = sci[y]
    around = np.concatenate([row[max(x - 8, 0) : max(x - 2, 0)], row[x + 3 : x + 9]])
    return float(sci[y, x] - np.median(around))


def _read_sci(path: Path, imset: int = 1) -> np.ndarray:
    with fits.open(path) as hdul:
        return np.asarray(hdul["SCI", imset].data, dtype=np.float64)


def _classify(n_yes: int, n: int, text: str, *, yes: str, no: str) -> Verdict:
    """``yes`` when (nearly) every pixel shows it, ``no`` when (nearly) none does."""
    if n_yes >= n - 1:
        return Verdict(yes, text)
    if n_yes <= 1:
        return Verdict(no, text)
    return Verdict(COULD_NOT_RUN, f"{text}: neither clearly present nor clearly fixed")


#: Pixels the reproducers edit, numpy (y, x) in the raw subarray, in the science
#: columns (raw 19..1042), apart from each other.
_PIXELS = [(6, 200), (10, 320), (14, 440), (18, 560), (22, 680), (26, 800), (8, 900), (24, 960)]


# ------------------------------------------------------------------- hstcal #221

#: DN of the cosmic ray the #221 reproducer puts in imset 1 (rejection must catch it).
_CR_DN = 20000


def _build_cr_flags_null_dq(workdir: Path, *, cr_dn: int = _CR_DN) -> ProbeInput:
    from stischeck.synth import SynthParams

    # No DQICORR: the raw DQ (null extensions) reaches calstis2 as is; a strong
    # cosmic ray is added to imset 1 without touching its DQ. SKYSUB none keeps
    # clear of the null-DQ sky crash (its own probe). DARKCORR makes cs0.e write
    # the per-imset _flt (calstis0.c: EXPSCORR acts only with a step of calstis1
    # part b, after the rejection; BIASCORR belongs to part a, before it).
    paths = _synth(SynthParams(seed=5, subarray=(300, 40), skysub="none", expscorr=True), workdir)
    edited = Path(workdir) / "edited" / paths.raw.name
    edited.parent.mkdir(parents=True, exist_ok=True)
    rawedit.edit_pixels(paths.raw, edited, pixels=_PIXELS, add_dn={1: cr_dn}, dq={})
    switches = ("BLEVCORR", "CRCORR", "DARKCORR", "EXPSCORR")
    raw = _stage(edited, workdir, switches, subdir="run")
    return ProbeInput(raw, paths.oref, {"pixels": _PIXELS, "raw_ltv": _raw_ltv(raw)})


def decide_cr_flags_null_dq(facts: RunFacts, inp: ProbeInput) -> Verdict:
    """#221: the cosmic ray rejected from the _crj must be flagged 8192 in imset 1 of the _flt."""
    failed = _needs(facts, "crj", "flt")
    if failed:
        return failed
    crj, flt = facts.products["crj"], facts.products["flt"]
    pixels = _product_pixels(crj, inp.notes["raw_ltv"], inp.notes["pixels"])
    flt_pixels = _product_pixels(flt, inp.notes["raw_ltv"], inp.notes["pixels"])
    n = len(pixels)
    # The _flt holds each imset before rejection: the cosmic ray must be there...
    flt1 = _read_sci(flt, 1)
    n_in = sum(_excess(flt1, y, x) > _CR_DN / 2 for y, x in flt_pixels)
    if n_in < n - 1:
        return Verdict(
            COULD_NOT_RUN, f"only {n_in} of {n} cosmic rays in imset 1 of the _flt: no test"
        )
    # ... and gone from the _crj, or there is no rejection to flag.
    sci = _read_sci(crj)
    n_kept = sum(_excess(sci, y, x) > _CR_DN / 10 for y, x in pixels)
    if n_kept > 1:
        return Verdict(
            COULD_NOT_RUN, f"{n_kept} of {n} injected cosmic rays stayed in the _crj: no test"
        )
    dq1 = read_dq(facts.products["flt"])[0]
    n_flag = sum(bool(dq1[y, x] & CR_FLAG) for y, x in flt_pixels)
    text = f"{n - n_kept} of {n} injected cosmic rays rejected from the _crj; "
    text += f"{n_flag} of {n} flagged {CR_FLAG} in imset 1 of the _flt"
    return _classify(n_flag, n, text, yes=FIXED, no=STILL_PRESENT)


# ------------------------------------------------------------------- hstcal #307

#: DN the #307 reproducer adds: a real source in every imset, a bad value in imsets 2 and 3.
_SOURCE_DN, _BAD_DN = 2000, 10000


def _build_cr_guess_ignores_dq(workdir: Path, *, bad_dn: int = _BAD_DN) -> ProbeInput:
    from stischeck.synth import SynthParams

    # 3 x 1000 s: MEANEXP row 1e10 of the synthetic CRREJTAB (median guess, BADINPDQ 256).
    params = SynthParams(seed=307, subarray=(497, 32), crsplit=3, exptime_s=3000.0, n_saturated=0)
    paths = _synth(params, workdir)
    edited = Path(workdir) / "edited" / paths.raw.name
    edited.parent.mkdir(parents=True, exist_ok=True)
    # bad_dn = 0 is the control: the same flags, no bad values, nothing to drag the guess.
    add = {1: _SOURCE_DN, 2: _SOURCE_DN + bad_dn, 3: _SOURCE_DN + bad_dn}
    rawedit.edit_pixels(
        paths.raw, edited, pixels=_PIXELS, add_dn=add, dq={2: _SATPIXEL, 3: _SATPIXEL}
    )
    raw = _stage(edited, workdir, _TO_CRCORR, subdir="run")
    notes = {"pixels": _PIXELS, "raw_ltv": _raw_ltv(raw), "source_dn": _SOURCE_DN * 3}
    return ProbeInput(raw, paths.oref, notes)


def decide_cr_guess_ignores_dq(facts: RunFacts, inp: ProbeInput) -> Verdict:
    """#307: a source good in imset 1 and flagged BADINPDQ in 2 and 3 must stay in the _crj.

    With the DQ-blind median guess the flagged values set the guess, the good
    value is rejected as a cosmic ray, and the pixel gets the fill value (0 DN/s,
    plus the sky): no source left.
    """
    failed = _needs(facts, "crj")
    if failed:
        return failed
    crj = facts.products["crj"]
    sci = _read_sci(crj)
    pixels = _product_pixels(crj, inp.notes["raw_ltv"], inp.notes["pixels"])
    expected = inp.notes["source_dn"]
    excess = [_excess(sci, y, x) for y, x in pixels]
    n_lost = sum(e < 0.2 * expected for e in excess)
    n_kept = sum(e > 0.5 * expected for e in excess)
    text = f"{n_lost} of {len(pixels)} sources lost from the _crj (expected +{expected} DN, "
    text += f"median seen {np.median(excess):+.0f} DN)"
    if n_lost + n_kept < len(pixels) - 1:
        return Verdict(COULD_NOT_RUN, f"{text}: neither clearly present nor clearly fixed")
    return _classify(n_lost, len(pixels), text, yes=STILL_PRESENT, no=FIXED)


# ------------------------------------------------------ null-DQ SKYSUB = mode crash


def _build_null_dq_sky_crash(workdir: Path, *, skysub: str = "mode") -> ProbeInput:
    from stischeck.synth import SynthParams

    # skysub = "none" is the control: the same null DQ, no sky computation.
    paths = _synth(SynthParams(seed=5, subarray=(300, 40), skysub=skysub), workdir)
    raw = _stage(paths.raw, workdir, _BLEV_CR, subdir="run")
    return ProbeInput(raw, paths.oref, {})


def decide_null_dq_sky_crash(facts: RunFacts, _inp: ProbeInput) -> Verdict:
    """The crash is the issue (signals are handled before); a run that ends must write a _crj."""
    failed = _needs(facts, "crj")
    if failed:
        return failed
    return Verdict(FIXED, "exited 0 and wrote the _crj")


# ------------------------------------------------------------------ EXPTIME = 0


def _build_exptime_zero(workdir: Path) -> ProbeInput:
    from stischeck.synth import SynthParams

    paths = _synth(SynthParams(seed=11, subarray=(497, 32), crsplit=3, exptime_s=900.0), workdir)
    edited = Path(workdir) / "edited" / paths.raw.name
    edited.parent.mkdir(parents=True, exist_ok=True)
    rawedit.set_imset_keyword(paths.raw, edited, imset=2, key="EXPTIME", value=0.0)
    raw = _stage(edited, workdir, _TO_CRCORR, subdir="run")
    return ProbeInput(raw, paths.oref, {"zero_imset": 2, "n_imsets": 3})


def decide_exptime_zero(facts: RunFacts, inp: ProbeInput) -> Verdict:
    """EXPTIME = 0: the imset is flagged bad and left out; the others give a finite _crj."""
    failed = _needs(facts, "crj")
    if failed:
        return failed
    imset = inp.notes["zero_imset"]
    warned = f"imset {imset} flagged as bad because exptime = 0" in facts.trailer
    with fits.open(facts.products["crj"]) as hdul:
        sci = np.asarray(hdul["SCI", 1].data, dtype=np.float64)
        ncombine = hdul["SCI", 1].header.get("NCOMBINE")
    n_bad = int(np.count_nonzero(~np.isfinite(sci)))
    text = f"trailer warning: {'yes' if warned else 'no'}; NCOMBINE = {ncombine}; "
    text += f"non-finite _crj pixels: {n_bad}"
    expected_n = inp.notes["n_imsets"] - 1
    if warned and ncombine == expected_n and n_bad == 0:
        return Verdict(FIXED, text)
    return Verdict(STILL_PRESENT, text)


# ---------------------------------------------------------- imsets of different sizes


def _build_sizes_differ(workdir: Path) -> ProbeInput:
    from stischeck.synth import SynthParams

    paths = _synth(SynthParams(seed=13, subarray=(497, 32), crsplit=2), workdir)
    edited = Path(workdir) / "edited" / paths.raw.name
    edited.parent.mkdir(parents=True, exist_ok=True)
    rawedit.crop_imset_rows(paths.raw, edited, imset=2, n_rows=8)
    raw = _stage(edited, workdir, _TO_CRCORR, subdir="run")
    return ProbeInput(raw, paths.oref, {})


def decide_sizes_differ(facts: RunFacts, _inp: ProbeInput) -> Verdict:
    """Imsets of different sizes: a clean refusal (non-zero exit, the size message, no _crj)."""
    said = "does not have the same size" in facts.trailer
    if facts.returncode and said and "crj" not in facts.products:
        return Verdict(FIXED, f"refused: exit status {facts.returncode}, size message in trailer")
    if "crj" in facts.products:
        return Verdict(STILL_PRESENT, "combined imsets of different sizes into a _crj")
    return Verdict(
        STILL_PRESENT,
        f"exit status {facts.returncode}, no _crj, "
        f"{'but' if said else 'and no'} size message in the trailer",
    )


# ------------------------------------------------------------- long names and paths

#: Lengths of the long-path reproducer: three folders and a file-name stem; the
#: relative input path stays under calstis's 255-character file-name limit.
_LONG_DIRS = ("d" * 50, "e" * 50, "f" * 40)
_LONG_STEM = "o" + "long_rootname_" * 5 + "x" * 8


def _build_long_paths(workdir: Path) -> ProbeInput:
    from stischeck.synth import SynthParams

    paths = _synth(SynthParams(seed=17, subarray=(497, 32), crsplit=2), workdir)
    name = f"{_LONG_STEM}_raw.fits"
    rundir = Path(workdir) / "run"
    raw = _stage(paths.raw, rundir, _TO_CRCORR, subdir=str(Path(*_LONG_DIRS)), name=name)
    # cs0.e gets the input by its path relative to rundir: the long path itself.
    notes = {"stem": _LONG_STEM, "path": str(raw.relative_to(rundir))}
    return ProbeInput(raw, paths.oref, notes, rundir=rundir)


def decide_long_paths(facts: RunFacts, inp: ProbeInput) -> Verdict:
    """Long names: products named after the full name, and the trailer keeps the full path."""
    failed = _needs(facts, "crj")
    if failed:
        return failed
    stem, path = inp.notes["stem"], inp.notes["path"]
    named = facts.products["crj"].name == f"{stem}_crj.fits"
    full = path in facts.trailer
    text = f"products named after the {len(stem)}-character name: {'yes' if named else 'no'}; "
    text += f"the {len(path)}-character input path in the trailer: {'yes' if full else 'no'}"
    return Verdict(FIXED if named and full else STILL_PRESENT, text)


PROBES = (
    Probe(
        name="cr_flags_null_dq",
        title="CR flags lost when the rejection inputs have null DQ arrays",
        issue="hstcal #221 https://github.com/spacetelescope/hstcal/issues/221",
        expects="a cosmic ray rejected from the _crj is flagged 8192 in its imset of the _flt "
        "(EXPSCORR), null input DQ notwithstanding",
        present="the cosmic ray is rejected but no 8192 flag reaches the _flt",
        build=_build_cr_flags_null_dq,
        decide=decide_cr_flags_null_dq,
    ),
    Probe(
        name="cr_guess_ignores_dq",
        title="CR initial guess ignores DQ",
        issue="hstcal #307 https://github.com/spacetelescope/hstcal/issues/307",
        expects="a source good in imset 1 and flagged BADINPDQ (256) in imsets 2 and 3 "
        "keeps its imset-1 value in the _crj",
        present="the flagged values set the median guess and the good value is rejected "
        "(fill value: the source is gone)",
        build=_build_cr_guess_ignores_dq,
        decide=decide_cr_guess_ignores_dq,
    ),
    Probe(
        name="null_dq_sky_crash",
        title="SIGSEGV in CR rejection on null DQ with SKYSUB = mode",
        issue="hstcal pkg/stis/lib/cs2/crrej_sky.c + hstio getShortData (null DQ PIXVALUE "
        "looked up in an unread header); tests/differential/test_synthetic_vs_live_calstis.py",
        expects="BLEVCORR + CRCORR without DQICORR exits 0 with a _crj",
        present="cs0.e is killed by a signal in calstis2",
        build=_build_null_dq_sky_crash,
        decide=decide_null_dq_sky_crash,
        crash_is_issue=True,
    ),
    Probe(
        name="exptime_zero_imset",
        title="an imset with EXPTIME = 0",
        issue="hstcal pkg/stis/lib/cs1/do2d.c (IMSET_OK = F for EXPTIME <= 0, 2008-11-03), "
        "cs2/crrej_check.c",
        expects="imset 2 of 3 flagged bad in the trailer, left out (NCOMBINE = 2), finite _crj",
        present="the zero-time imset enters the combination, or non-finite pixels",
        build=_build_exptime_zero,
        decide=decide_exptime_zero,
    ),
    Probe(
        name="crsplit_sizes_differ",
        title="CR-SPLIT imsets of different sizes",
        issue="hstcal pkg/stis/lib/cs2/crrej_check.c (imsets must have the same size)",
        expects="a clean refusal: non-zero exit, the size message, no _crj",
        present="a _crj from mismatched imsets, or a refusal that does not say why",
        build=_build_sizes_differ,
        decide=decide_sizes_differ,
    ),
    Probe(
        name="long_paths",
        title="long rootnames and paths (trailer buffer overflows)",
        issue="hstcal 590ff1fb (#658), pkg/stis/CHANGELOG.txt 3.5.0: buffer overflows in "
        "trlerror/trlwarn fixed",
        expects="a 231-character input path (79-character name): exit 0, products named "
        "after the full name, the full path in the trailer",
        present="a crash (signal), or truncated names",
        build=_build_long_paths,
        decide=decide_long_paths,
        crash_is_issue=True,
    ),
)


def _control(name: str, **kw) -> Probe:
    """A probe's input without the trigger: what its decision says when the issue cannot show."""
    import dataclasses
    from functools import partial

    probe = next(p for p in PROBES if p.name == name)
    return dataclasses.replace(probe, name=f"{name}_control", build=partial(probe.build, **kw))


#: Control inputs (live tests): name -> (probe, the status a working decision must give).
#: No bad values under the flags (#307): fixed; SKYSUB none on null DQ: fixed; no
#: injected cosmic ray (#221): could not run (nothing rejected, nothing to test).
CONTROLS = {
    "cr_guess_ignores_dq": (_control("cr_guess_ignores_dq", bad_dn=0), FIXED),
    "null_dq_sky_crash": (_control("null_dq_sky_crash", skysub="none"), FIXED),
    "cr_flags_null_dq": (_control("cr_flags_null_dq", cr_dn=0), COULD_NOT_RUN),
}


def probe_names() -> tuple:
    """Names of every probe, in table order."""
    return tuple(p.name for p in PROBES)


def select(names) -> tuple:
    """
    The probes named (all when ``names`` is empty), in table order.

    Raises
    ------
    UsageError
        A name that is not a probe.
    """
    from stischeck.errors import UsageError

    if not names:
        return PROBES
    unknown = sorted(set(names) - set(probe_names()))
    if unknown:
        raise UsageError(
            f"unknown probe {', '.join(unknown)} (choose from {', '.join(probe_names())})"
        )
    return tuple(p for p in PROBES if p.name in names)
