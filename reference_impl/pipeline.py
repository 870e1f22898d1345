"""Which switch runs which step, in what order, and what each product's headers say.

This is the only module that knows the order of the 2-D CCD steps (spec §1.5,
§1.8; hstcal ``cs0/calstis0.c``, ``cs1/do2d.c``, ``cs1/getflags1.c``):

    DQICORR -> ATODCORR -> BLEVCORR -> ERR initialisation -> BIASCORR -> DARKCORR
    -> FLATCORR -> SHADCORR -> (PHOTMODE, PHOTCORR on the first good imset) -> STATFLAG

per imset, for a run without cosmic-ray rejection. With CRCORR on two or more
imsets calstis splits the run around calstis2 (DQICORR, ATODCORR, BLEVCORR,
BIASCORR before it; the rest after it, on the ``_crj``).

The module only orchestrates: each per-imset step is one ``_apply_<switch>``
adapter that hands an `_ImsetState` to its pure function in ``steps/`` and
records the step's keywords; the arithmetic is in ``steps/`` (calstis2's in
``steps/crcorr.py``), the HISTORY text in ``io/history.py`` and the keyword
values in ``io/keywords.py``.
"""

from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reference_impl.errors import RawInputError, ReferenceFileError
from reference_impl.geometry import find_overscan, placement_from_lt
from reference_impl.imset import Imset, no_err
from reference_impl.io import atodtab, phottables, reffiles
from reference_impl.io import history as hist
from reference_impl.io import keywords as kw
from reference_impl.io.hstio_header import apply_history
from reference_impl.io.hstio_header import clean as clean_header
from reference_impl.io.hstio_header import put as put_keyword
from reference_impl.io.hstio_numbers import card_double
from reference_impl.io.rawfile import RawExposure, RawImset, exposure_from_parts
from reference_impl.io.spool import ImageSpool
from reference_impl.numerics import header_float
from reference_impl.radial_velocity import heliocentric_radial_velocity_km_s
from reference_impl.steps.atodcorr import apply_atod, select_atod_row
from reference_impl.steps.biascorr import subtract_bias
from reference_impl.steps.blevcorr import subtract_overscan_bias
from reference_impl.steps.crcorr import (
    exposure_weighted_temperature,
    noise_and_gain,
    reject_cosmic_rays,
    stack_exposure_times,
)
from reference_impl.steps.darkcorr import (
    SIDE2_MJD,
    dark_scale,
    dark_temperature_factor,
    subtract_dark,
)
from reference_impl.steps.dqicorr import ApertureGeometry, flag_bad_pixels, parse_aper_fov
from reference_impl.steps.flatcorr import (
    apply_flat,
    combine_flat_dq,
    combine_flats,
    combine_flats_in_blocks,
)
from reference_impl.steps.noise import init_errors, needs_error_init
from reference_impl.steps.photcorr import compute_photometry, photmode_string
from reference_impl.steps.shadcorr import correct_shutter_shading
from reference_impl.steps.statflag import compute_statistics
from reference_impl.types import OutputImset, Product, RunResult  # noqa: F401 (re-exported)

__all__ = ["CAL_VER", "OutputImset", "Product", "RunResult", "calibrate"]

#: The calstis version whose behaviour this reference reproduces.
CAL_VER = "3.5.0 (02-Feb-2026)"

#: Part-a imsets of more than this many bytes in all are spooled to a temporary
#: file: a full-frame CRSPLIT = 8 (53 MB), not CRSPLIT = 2 or 4 (13 and 27 MB).
SPOOL_ABOVE_BYTES = 32 * 2**20


#: Switches whose PERFORM makes cs0 run calstis1 (sciflags.c).
_CS1_SWITCHES = (
    "DQICORR",
    "ATODCORR",
    "BLEVCORR",
    "BIASCORR",
    "DARKCORR",
    "FLATCORR",
    "SHADCORR",
    "PHOTCORR",
    "LORSCORR",
    "GLINCORR",
    "LFLGCORR",
)


@dataclass
class _StepPlan:
    """Resolved per-run switch states: PERFORM, DUMMY or OMIT for each step."""

    dqicorr: str = "OMIT"
    blevcorr: str = "OMIT"
    biascorr: str = "OMIT"
    darkcorr: str = "OMIT"
    flatcorr: str = "OMIT"
    atodcorr: str = "OMIT"
    shadcorr: str = "OMIT"
    photcorr: str = "OMIT"
    tdscorr: str = "OMIT"
    statflag: bool = True
    bpix_path: Path | None = None
    bias_path: Path | None = None
    dark_path: Path | None = None
    flat_paths: dict = field(default_factory=dict)  # "PFLTFILE" -> Path (used parts only)
    atod_path: Path | None = None
    atod_row: object = None  # the ATODTAB row of the first imset (its PEDIGREE/DESCRIP)
    shad_path: Path | None = None
    phot_path: Path | None = None
    tds_path: Path | None = None
    flat_all: dict = field(default_factory=dict)  # "PFLTFILE" -> Path (every named flat)
    pedigrees: dict = field(default_factory=dict)  # Path -> (pedigree, descrip)


def _resolve(raw: RawExposure, keyword: str, oref_dir: Path | None) -> Path:
    return reffiles.resolve_reference(
        raw.info.references[keyword], keyword=keyword, raw_name=raw.path.name, oref_dir=oref_dir
    )


def _check_references(raw: RawExposure, oref_dir: Path | None, *, cr_rejection: bool) -> dict:
    """cs0 refexist.c: every needed reference must exist before any processing."""
    info = raw.info
    need = ["CCDTAB"]
    optional = []
    if info.performs("DQICORR"):
        optional.append("BPIXTAB")
    if info.performs("ATODCORR"):
        need.append("ATODTAB")
    if info.performs("BIASCORR"):
        need.append("BIASFILE")
    if info.performs("DARKCORR"):
        need.append("DARKFILE")
    if info.performs("SHADCORR"):
        need.append("SHADFILE")
    if info.performs("PHOTCORR"):
        # cs0 sciflags.c asks for the IMPHTTAB whatever OBSTYPE is; APERTAB may
        # be blank (refexist.c); cs1 getflags1.c checkPhot reads the TDSTAB.
        need.append("IMPHTTAB")
        optional.append("APERTAB")
        if info.is_imaging:
            optional.append("TDSTAB")
    if cr_rejection:
        need.append("CRREJTAB")
    found: dict[str, Path | None] = {}
    for keyword in need:
        if reffiles.is_blank_name(info.references.get(keyword)):
            raise ReferenceFileError(
                f"{raw.path.name}: {keyword} is '{info.references.get(keyword) or ''}' "
                "but a reference file is needed"
            )
        found[keyword] = _resolve(raw, keyword, oref_dir)
    for keyword in optional:
        name = info.references.get(keyword)
        found[keyword] = None if reffiles.is_blank_name(name) else _resolve(raw, keyword, oref_dir)
    if info.performs("FLATCORR"):
        flats = ("PFLTFILE", "DFLTFILE", "LFLTFILE")
        if all(reffiles.is_blank_name(info.references.get(k)) for k in flats):
            raise ReferenceFileError(
                f"{raw.path.name}: FLATCORR is PERFORM but PFLTFILE, DFLTFILE and LFLTFILE "
                "are all blank"
            )
        for keyword in flats:
            name = info.references.get(keyword)
            found[keyword] = (
                None if reffiles.is_blank_name(name) else _resolve(raw, keyword, oref_dir)
            )
    return found


def _plan(found: dict, perform: set[str], statflag: bool, *, imaging: bool = True) -> _StepPlan:
    """getflags1.c: PERFORM switches become DUMMY when their reference's PEDIGREE says so."""
    plan = _StepPlan(statflag=statflag)

    def pedigree(path: Path) -> str:
        return _pedigree_of(plan, path)[0]

    if "DQICORR" in perform:
        plan.bpix_path = found.get("BPIXTAB")
        if plan.bpix_path is not None and reffiles.is_dummy(pedigree(plan.bpix_path)):
            plan.dqicorr = "DUMMY"
        else:
            plan.dqicorr = "PERFORM"
    if "ATODCORR" in perform:
        plan.atod_path = found["ATODTAB"]
        plan.atodcorr = "DUMMY" if reffiles.is_dummy(pedigree(plan.atod_path)) else "PERFORM"
    if "SHADCORR" in perform:
        plan.shad_path = found["SHADFILE"]
        plan.shadcorr = "DUMMY" if reffiles.is_dummy(pedigree(plan.shad_path)) else "PERFORM"
    if "BLEVCORR" in perform:
        plan.blevcorr = "PERFORM"
    if "BIASCORR" in perform:
        plan.bias_path = found["BIASFILE"]
        plan.biascorr = "DUMMY" if reffiles.is_dummy(pedigree(plan.bias_path)) else "PERFORM"
    if "DARKCORR" in perform:
        plan.dark_path = found["DARKFILE"]
        plan.darkcorr = "DUMMY" if reffiles.is_dummy(pedigree(plan.dark_path)) else "PERFORM"
    if "FLATCORR" in perform:
        any_dummy = False
        for keyword in ("PFLTFILE", "DFLTFILE", "LFLTFILE"):
            path = found.get(keyword)
            if path is None:
                continue
            plan.flat_all[keyword] = path
            if reffiles.is_dummy(pedigree(path)):
                any_dummy = True
            else:
                plan.flat_paths[keyword] = path
        if plan.flat_paths:
            plan.flatcorr = "PERFORM"
        elif any_dummy:
            plan.flatcorr = "DUMMY"
    if "PHOTCORR" in perform and imaging:  # checkPhot: imaging only, else OMIT
        plan.phot_path = found["IMPHTTAB"]
        plan.photcorr = "DUMMY" if reffiles.is_dummy(pedigree(plan.phot_path)) else "PERFORM"
        plan.tds_path = found.get("TDSTAB")
        if plan.tds_path is not None:
            plan.tdscorr = "DUMMY" if reffiles.is_dummy(pedigree(plan.tds_path)) else "PERFORM"
    return plan


def _photmode(raw: RawExposure, first: RawImset) -> str:
    """PHOTMODE as calstis1 rebuilds it on every run (photmode.c)."""
    info = raw.info
    return photmode_string(
        aperture=info.aperture,
        ccdgain=info.ccdgain,
        opt_elem=info.opt_elem,
        obstype=info.obstype,
        cenwave=info.cenwave,
        expstart_mjd=first.info.expstart_mjd,
    )


def _plate_scale_deg(info_cd: tuple, raw: RawExposure) -> tuple[float, float]:
    """Degrees per pixel on x and y as getgrpinfo1.c derives them from the CD matrix."""
    cd11, cd12, cd21, cd22 = info_cd
    if raw.info.is_imaging:
        return (float(np.hypot(cd11, cd21)), float(np.hypot(cd12, cd22)))
    value = cd22 if raw.info.dispaxis == 1 else cd11
    return (abs(value), abs(value))


def _is_bad_imset(raw: RawExposure, rim: RawImset) -> str | None:
    """do2d.c: EXPTIME <= 0 or constant SCI marks an imset bad (not for TARGNAME BIAS)."""
    if raw.info.targname == "BIAS":
        return None
    if rim.info.exptime_s <= 0:
        return f"imset {rim.info.extver} flagged as bad because exptime = {rim.info.exptime_s:g}"
    if rim.sci_is_constant():  # one pass, on the stored integers of a raw file
        value = rim.imset.sci.max()
        return f"imset {rim.info.extver} flagged as bad because all values = {value:g}"
    return None


def calibrate(
    raw: RawExposure,
    *,
    oref_dir: Path | None = None,
    consume_input: bool = False,
    spool_above_bytes: int = SPOOL_ABOVE_BYTES,
) -> RunResult:
    """
    Reproduce what cs0.e writes for this raw file's header switches.

    Parameters
    ----------
    raw : RawExposure
        From `reference_impl.io.rawfile.read_raw`.
    oref_dir : Path, optional
        Directory for ``oref$`` names (else the ``oref`` environment variable).
    consume_input : bool
        Let each raw imset's arrays go as soon as the first calstis1 run has
        read them (``raw.imsets[k].imset`` is None afterwards; the headers
        stay): for callers that only write the products, so that the raw
        arrays are not held through the whole run.
    spool_above_bytes : int
        With CR rejection, part-a imsets of more bytes than this in all go
        to a temporary file (in ``$TMPDIR``, deleted at the end) and come back
        a block of rows at a time (`reference_impl.io.spool`); the products
        are the same either way.

    Returns
    -------
    RunResult
        The products (``_flt``, or ``_crj`` and with EXPSCORR ``_flt``) and
        messages, or why there is nothing to do.

    Raises
    ------
    ReferenceFileError, ShapeMismatchError
        For missing, unreadable or mismatched reference files (calstis fails).
    NotImplementedStepError
        For FLATCORR with an LFLTFILE alone, or an IMPHTTAB layout where
        calstis reads outside its arrays (`reference_impl.steps.photcorr`).
    """
    info = raw.info
    messages: list[str] = []
    if info.texptime_s <= 0 and info.targname != "BIAS":
        return RunResult([], messages, f"Total exposure time = {info.texptime_s:g}")
    cr_switch = info.performs("CRCORR") or info.performs("RPTCORR")
    cr_rejection = cr_switch and info.n_imsets >= 2
    if cr_switch and not cr_rejection:
        messages.append("CRCORR needs two or more imsets; CR rejection omitted")
    # cs0.e checks the reference files (the CCDTAB always) before it finds that no
    # switch is PERFORM: a real ACQ file with every switch OMIT and no CCDTAB is an
    # error (exit 2), not "nothing to do" (found by experiment with cs0.e 3.5.0).
    found = _check_references(raw, oref_dir, cr_rejection=cr_rejection)
    if not cr_rejection and not any(info.performs(s) for s in _CS1_SWITCHES):
        return RunResult([], messages, _nothing_to_do(info))
    performed = {s for s in _CS1_SWITCHES if info.performs(s)}
    if not cr_rejection:
        product = _calstis1(
            raw, found, performed, info.statflag, messages, "flt", consume=consume_input
        )
        if product is None:
            return RunResult([], messages, _NOTHING_RUNNABLE)
        return RunResult([product], messages)
    return _calibrate_with_cr_rejection(
        raw, found, performed, messages, consume_input, spool_above_bytes
    )


def _nothing_to_do(info) -> str:
    """cs0.e's reason for writing nothing, saying what a target acquisition is."""
    text = "No calibration switch was set to PERFORM."
    if info.obsmode in ("ACQ", "ACQ/PEAK"):
        kind = "peak-up target acquisition" if info.obsmode == "ACQ/PEAK" else "target acquisition"
        text += f" (OBSMODE = {info.obsmode}, a {kind}, every switch OMIT: no product)"
    return text


_NOTHING_RUNNABLE = (
    "No calibration switch was set to PERFORM, or all reference files had PEDIGREE = DUMMY."
)


@dataclass
class _Calstis1Run:
    """What every imset of one calstis1 run shares: the inputs, the plan, the references.

    ``keep_err`` False: each imset's ERR is dropped once calibrated (the
    part-a run of the CR path when nothing downstream reads it: calstis2
    combines SCI and DQ only), so it is not initialised. ``consume``: each
    imset's arrays may go as soon as read: the exposure is an intermediate
    the pipeline made itself (``_crj_tmp``, the flagged ``_blv_tmp``), or
    the raw exposure of a caller that asked `calibrate` to consume it.
    """

    raw: RawExposure
    ccd: object  # the CCDTAB row (reffiles.read_ccdtab)
    plan: _StepPlan
    bpix: object  # the BPIXTAB (reffiles.read_bpixtab), or None
    refs: "_References"
    messages: list[str]
    keep_err: bool = True
    consume: bool = False


def _calstis1(
    raw: RawExposure,
    found: dict,
    perform: set[str],
    statflag: bool,
    messages: list[str],
    suffix: str,
    *,
    keep_err: bool = True,
    consume: bool = False,
    spool: "ImageSpool | None" = None,
) -> "Product | None":
    """One calstis1 run over every imset of ``raw`` with the switches in ``perform``.

    Returns None when no step is runnable (calstis then writes nothing).
    ``keep_err`` and ``consume``: see `_Calstis1Run`; ``spool``: each output
    imset goes to that file as soon as it is made (the part-a run of a
    large CR-SPLIT).
    """
    info = raw.info
    ccd = reffiles.read_ccdtab(
        found["CCDTAB"],
        ccdamp=info.ccdamp,
        ccdgain=info.ccdgain,
        ccdoffst=info.ccdoffst,
        binaxis1=info.binaxis1,
        binaxis2=info.binaxis2,
    )
    plan = _plan(found, perform, statflag, imaging=info.is_imaging)
    if not _is_runnable(plan):
        return None
    bpix = _read_bpixtab(plan, info.opt_elem, messages)
    run = _Calstis1Run(raw, ccd, plan, bpix, _References(plan), messages, keep_err, consume)
    verdicts = [_is_bad_imset(raw, rim) for rim in raw.imsets]  # once: each reads SCI
    good = [k for k, bad in enumerate(verdicts) if not bad]
    last_good = good[-1] if good else None

    out_imsets: list[OutputImset] = []
    primary_keywords: dict = {"CAL_VER": CAL_VER}
    history: list[str] = []
    for k, rim in enumerate(raw.imsets):
        out = _imset_output(run, rim, verdicts[k], is_last=k == last_good)
        if spool is not None:
            out.imset = spool.put_imset(out.imset)
        out_imsets.append(out)
        if good and k == good[0]:
            primary_keywords.update(_primary_updates(raw, rim, ccd, plan, history, out.notes))
            primary_keywords.update(_photometry_updates(raw, rim, ccd, plan, history, messages))
    if not good or raw.imsets[good[0]].info.extver != 1:
        # calstis makes its primary-header changes on the first good imset, but
        # the primary header reaches the file only with imset 1.
        primary_keywords = {"CAL_VER": CAL_VER}
        history = []
    return Product(suffix, primary_keywords, history, out_imsets, raw.primary_header)


def _is_runnable(plan: _StepPlan) -> bool:
    """getflags1.c: some step is PERFORM (a DUMMY step is not runnable on its own).

    With only a DUMMY DQICORR calstis writes nothing, although it flags
    saturation when another step runs.
    """
    return "PERFORM" in (
        plan.dqicorr,
        plan.blevcorr,
        plan.biascorr,
        plan.darkcorr,
        plan.flatcorr,
        plan.photcorr,
        plan.atodcorr,
        plan.shadcorr,
    )


def _read_bpixtab(plan: _StepPlan, opt_elem: str, messages: list[str]):
    """The BPIXTAB rows DQICORR uses, or None (no table, or DQICORR not PERFORM)."""
    if plan.dqicorr != "PERFORM" or plan.bpix_path is None:
        return None
    bpix = reffiles.read_bpixtab(plan.bpix_path, opt_elem=opt_elem)
    if bpix.n_out_of_range:
        messages.append(f"{bpix.n_out_of_range} BPIXTAB rows start out of range; ignored")
    return bpix


def _imset_output(run: _Calstis1Run, rim: RawImset, bad: str | None, *, is_last: bool):
    """One imset of the product: calibrated, or copied with IMSET_OK = F when ``bad``.

    ``V_HELIO`` is computed for every imset, good or bad, before the bad-imset test (do2d.c).
    """
    helio = _helio_keywords(run.raw, rim)
    if bad:
        run.messages.append(bad)
        return OutputImset(rim.imset.copy(), rim.headers, sci_keywords={**helio, "IMSET_OK": False})
    out = _calibrate_imset(run, rim, is_last=is_last)
    if not run.keep_err:
        out.imset = Imset(out.imset.sci, no_err(out.imset.sci.shape), out.imset.dq)
    out.sci_keywords.update(helio)
    return out


#: Target names of wavecal exposures, which get no V_HELIO (getkeyinfo1.c).
_WAVECAL_TARGETS = ("WAVELINE", "WAVEHITM")


def _helio_keywords(raw: RawExposure, rim: RawImset) -> dict:
    """``V_HELIO`` for a spectroscopic imset at mid-exposure (do2d.c), else nothing.

    calstis computes it for every imset, good or bad, before the bad-imset test.
    """
    info = raw.info
    if info.obstype != "SPECTROSCOPIC" or info.targname in _WAVECAL_TARGETS:
        return {}
    header, sci = raw.primary_header, rim.headers["SCI"]
    for key in ("RA_TARG", "DEC_TARG"):
        if key not in header:
            raise RawInputError(f"{raw.path}: {key} missing from the primary header")
    # Doubles as calstis reads them (hstio's rounding), not as astropy does.
    mid_mjd = (card_double(sci, "EXPSTART", 0.0) + card_double(sci, "EXPEND", 0.0)) / 2.0
    velocity = heliocentric_radial_velocity_km_s(
        card_double(header, "RA_TARG", 0.0), card_double(header, "DEC_TARG", 0.0), mid_mjd
    )
    return {"V_HELIO": kw.double_keyword(velocity)}


def _primary_updates(raw, rim, ccd, plan: _StepPlan, history: list[str], notes: dict) -> dict:
    """Primary keywords and HISTORY written on the first good imset (do2d.c, history1.c).

    ``notes`` are the first good imset's step notes (OutputImset.notes).
    """
    info = raw.info
    keywords = {
        "ATODGAIN": header_float(ccd.atodgain),
        "READNSE": header_float(ccd.readnse),
        "PHOTMODE": _photmode(raw, rim),
    }
    if info.n_imsets == 1 and info.switches.get("CRCORR") == "PERFORM":
        keywords["CRCORR"] = "SKIPPED"
    history.append(hist.CCD_TABLE)
    history += hist.table_history(
        info.references.get("CCDTAB", ""),
        ccd.row_pedigree if ccd.row_pedigree is not None else ccd.pedigree,
        ccd.descrip,
        ccd.row_descrip or "",
    )
    state = {
        "DQICORR": plan.dqicorr,
        "ATODCORR": plan.atodcorr,
        "BLEVCORR": plan.blevcorr,
        "BIASCORR": plan.biascorr,
        "DARKCORR": plan.darkcorr,
        "FLATCORR": plan.flatcorr,
        "SHADCORR": plan.shadcorr,
    }
    for switch, value in state.items():
        if value == "PERFORM":
            keywords[switch] = "COMPLETE"
        elif value in ("DUMMY", "IGNORED"):
            keywords[switch] = "SKIPPED"
        else:
            value = None
        if value is not None:
            history += _step_history(raw, plan, switch, value, notes)
        if switch == "BLEVCORR" and notes.get("noise_done"):
            history.append(hist.NOISE_INITIALISED)  # noiseHistory, after blevHistory
    return keywords


def _detector_temperature(rim: RawImset) -> float:
    """getdettemp.c for the CCD: OCCDHTAV from side 2 on (as hstio reads it), else -1."""
    sci = rim.headers["SCI"]
    if card_double(sci, "EXPSTART", -1.0) < SIDE2_MJD or "OCCDHTAV" not in sci:
        return -1.0
    return card_double(sci, "OCCDHTAV", -1.0)


def _photometry_updates(raw, rim, ccd, plan: _StepPlan, history, messages) -> dict:
    """PHOTCORR on the first good imset (do2d.c, dophot.c, history1.c photHistory)."""
    if plan.photcorr == "DUMMY":
        history += _step_history(raw, plan, "PHOTCORR", "DUMMY", {})
        return {"PHOTCORR": "SKIPPED"}
    if plan.photcorr != "PERFORM":
        return {}
    table = phottables.read_imphttab(plan.phot_path)
    tds = None
    if plan.tdscorr == "PERFORM":
        tds = phottables.read_tdstab_row(plan.tds_path, raw.info.opt_elem)
    if isinstance(table, phottables.ImphttabFailure):
        result = None
        messages.append(f"PHOTCORR skipped: {table}")
    else:
        result = compute_photometry(
            table,
            _photmode(raw, rim),
            atodgain=float(ccd.atodgain),
            tds=tds,
            temperature_c=_detector_temperature(rim),
        )
    keywords = {}
    if result is not None:
        keywords = kw.photometry_keywords(result.keywords, raw.primary_header)
        if result.message:
            messages.append(f"PHOTCORR: {result.message}")
    # dophot.c sets the keywords before photHistory logs the step: a keyword the
    # header lacks is appended after the HISTORY of the steps before PHOTCORR.
    history += list(keywords.items())
    if result is None or result.skipped:
        history += _step_history(raw, plan, "PHOTCORR", "IGNORED", {})
        return {"PHOTCORR": "SKIPPED"}
    history += _step_history(raw, plan, "PHOTCORR", "PERFORM", {})
    return {"PHOTCORR": "COMPLETE"}


def _pedigree_of(plan: _StepPlan, path: Path | None) -> tuple[str, str]:
    """A reference file's (PEDIGREE, DESCRIP), read once per run; blank for no file."""
    if path is None:
        return "", ""
    if path not in plan.pedigrees:
        plan.pedigrees[path] = reffiles.read_pedigree(path)
    return plan.pedigrees[path]


def _step_history(raw, plan: _StepPlan, switch: str, value: str, notes: dict) -> list[str]:
    """history1.c: a step's HISTORY lines (UpdateSwitch, then the reference files used)."""
    if switch == "BLEVCORR":  # blevHistory: no reference file
        return hist.blevcorr_history(
            blev_done=bool(notes.get("blev_done")), drift=bool(notes.get("drift"))
        )
    used = _references_used(raw, plan, switch) if value != "IGNORED" else []
    return hist.step_history(switch, value, used, tds_included=plan.tdscorr == "PERFORM")


def _references_used(raw, plan: _StepPlan, switch: str) -> list:
    """The reference files a step's HISTORY names, in history1.c's order."""
    refs = raw.info.references

    def used(keyword: str, path: Path | None, *, table: bool) -> hist.ReferenceUsed:
        pedigree, descrip = _pedigree_of(plan, path)
        return hist.ReferenceUsed(refs.get(keyword, ""), pedigree, descrip, is_table=table)

    if switch == "DQICORR":
        return [used("BPIXTAB", plan.bpix_path, table=True)] if plan.bpix_path is not None else []
    if switch in ("BIASCORR", "DARKCORR"):
        keyword = "BIASFILE" if switch == "BIASCORR" else "DARKFILE"
        path = plan.bias_path if switch == "BIASCORR" else plan.dark_path
        return [used(keyword, path, table=False)]
    if switch == "FLATCORR":
        return [
            used(keyword, plan.flat_paths.get(keyword) or plan.flat_all.get(keyword), table=False)
            for keyword in ("PFLTFILE", "DFLTFILE", "LFLTFILE")
            if not reffiles.is_blank_name(refs.get(keyword))
        ]
    # atodHistory, shadHistory, photHistory (history1.c). Their file-level
    # PEDIGREE/DESCRIP are logged; HISTORY is not compared by the shipped policy and
    # these three steps' lines have not been checked card by card against cs0.e.
    if switch == "ATODCORR":
        pedigree, descrip = _pedigree_of(plan, plan.atod_path)
        row = plan.atod_row
        if row is not None and row.has_pedigree:
            pedigree = row.pedigree
        descrip2 = row.descrip or "" if row is not None else ""
        return [hist.ReferenceUsed(refs.get("ATODTAB", ""), pedigree, descrip, descrip2, True)]
    if switch == "SHADCORR":
        return [used("SHADFILE", plan.shad_path, table=False)]
    if switch == "PHOTCORR":
        tables = [used("IMPHTTAB", plan.phot_path, table=True)]
        if plan.tdscorr == "PERFORM":
            tables.append(used("TDSTAB", plan.tds_path, table=True))
        return tables
    return []


class _References:
    """The reference images of one calstis1 run, read when a step first needs one.

    A reference stays for the run's later imsets; the last imset releases each
    one after its step, so the bias, the dark and the flats (each as large as
    the science frame) are never all in memory at once.
    """

    def __init__(self, plan: _StepPlan):
        self._plan = plan
        self._cache: dict = {}

    def get(self, kind: str) -> reffiles.ReferenceImage:
        """``"bias"``, ``"dark"``, ``"flat"`` (P x D x L), ``"shad"`` or ``"atod"`` (its rows)."""
        if kind not in self._cache:
            if kind == "bias":
                ref = reffiles.read_reference_image(self._plan.bias_path, what="bias image")
            elif kind == "shad":
                ref = reffiles.read_reference_image(self._plan.shad_path, what="SHADFILE")
            elif kind == "atod":
                ref = atodtab.read_atodtab(self._plan.atod_path)
            elif kind == "dark":
                ref = reffiles.read_reference_image(self._plan.dark_path, what="dark image")
            else:
                ref = self._read_flat()
            self._cache[kind] = ref
        return self._cache[kind]

    def release(self, kind: str) -> None:
        """Forget a reference (the last imset has used it)."""
        self._cache.pop(kind, None)

    def _read_flat(self) -> reffiles.ReferenceImage:
        paths = self._plan.flat_paths
        if "PFLTFILE" in paths and "DFLTFILE" in paths:
            return self._read_flat_in_blocks(paths)
        # P or D, then the expanded L (combine_flats' own order), each
        # file read only when its turn comes.
        parts = {
            k: reffiles.read_reference_image(paths[k], what=k)
            for k in ("PFLTFILE", "DFLTFILE")
            if k in paths
        }
        base = parts.get("PFLTFILE") or parts.get("DFLTFILE")
        lflt = None
        if base is None or "LFLTFILE" in paths:
            lflt = reffiles.read_reference_image(paths["LFLTFILE"], what="LFLTFILE").imset
        if base is None:
            combine_flats(None, None, lflt)  # raises: LFLT alone is not implemented
        where = (base.path, base.placement, base.primary_header)
        del base
        combined = combine_flats(
            parts.pop("PFLTFILE").imset if "PFLTFILE" in parts else None,
            parts.pop("DFLTFILE").imset if "DFLTFILE" in parts else None,
            None,
        )
        if lflt is not None:
            combined = combine_flats(combined, None, lflt)
        return reffiles.ReferenceImage(where[0], combined, where[1], where[2])

    @staticmethod
    def _read_flat_in_blocks(paths: dict) -> reffiles.ReferenceImage:
        """P x D x L with P's and D's ERR read block by block, in file order.

        Two reference files are read side by side: both SCI arrays, then the
        ERR arrays a block of rows at a time (each block multiplied at once,
        LFLT included), then both DQ arrays; neither flat is held whole next
        to the product.
        """
        lflt = None
        if "LFLTFILE" in paths:
            lflt = reffiles.read_reference_image(paths["LFLTFILE"], what="LFLTFILE").imset
        with (
            reffiles.ReferenceStream(paths["PFLTFILE"], what="PFLTFILE") as pflt,
            reffiles.ReferenceStream(paths["DFLTFILE"], what="DFLTFILE") as dflt,
        ):
            blocks = (
                (rows, p_err, d_err)
                for (rows, p_err), (_, d_err) in zip(
                    pflt.err_blocks(), dflt.err_blocks(), strict=True
                )
            )
            sci, err, l_dq = combine_flats_in_blocks(pflt.sci, dflt.sci, blocks, lflt)
            pflt.sci = dflt.sci = None  # done with them before the DQ arrays come in
            dq = combine_flat_dq(pflt.dq(), dflt.dq(), l_dq)
            return reffiles.ReferenceImage(
                pflt.path, Imset(sci, err, dq), pflt.placement, pflt.primary_header
            )


@dataclass
class _ImsetState:
    """One good imset between calstis1's steps: its arrays and what the steps recorded.

    Each ``_apply_<switch>`` step reads ``imset`` and replaces it with the
    step's result, and writes its header keywords and notes into ``out``.
    ``placement`` is where the arrays sit on the detector (BLEVCORR's trim
    moves it); ``err_init_bias`` is the bias (DN) the ERR initialisation
    takes out of SCI: the CCDTAB's CCDBIAS, or 0 once BLEVCORR has run.
    """

    rim: RawImset
    is_last: bool  # no later imset of this run needs the reference images
    imset: Imset
    out: OutputImset
    placement: object
    err_init_bias: float


def _calibrate_imset(run: _Calstis1Run, rim: RawImset, *, is_last: bool) -> OutputImset:
    """Run the per-imset steps of one calstis1 run on one good imset (do2d.c order)."""
    plan = run.plan
    # The imset goes into `out` at the end: holding the input there would keep
    # its arrays alive through every step.
    state = _ImsetState(
        rim,
        is_last,
        rim.imset,
        OutputImset(None, rim.headers),
        rim.info.placement,
        float(run.ccd.ccdbias),
    )
    if run.consume:
        rim.imset = None  # from here on `state` holds the only reference
    if plan.dqicorr != "OMIT":
        _apply_dqicorr(run, state)
    if plan.atodcorr == "PERFORM":
        _apply_atodcorr(run, state)
    if plan.blevcorr == "PERFORM":
        _apply_blevcorr(run, state)
    _initialise_errors(run, state)
    if plan.biascorr == "PERFORM":
        _apply_biascorr(run, state)
    if plan.darkcorr == "PERFORM":
        _apply_darkcorr(run, state)
    if plan.flatcorr == "PERFORM":
        _apply_flatcorr(run, state)
    if plan.shadcorr == "PERFORM":
        _apply_shadcorr(run, state)
    if plan.statflag:
        _apply_statflag(state)
    state.out.imset = state.imset
    return state.out


def _reference_cut(run: _Calstis1Run, state: _ImsetState, kind: str, *, average: bool, what: str):
    """The reference image ``kind`` cut to the imset's pixels; the last imset lets it go."""
    ref = run.refs.get(kind)
    if state.is_last:
        run.refs.release(kind)
    return reffiles.cut_to_science(
        ref, state.placement, state.imset.sci.shape, average=average, what=what
    )


def _apply_dqicorr(run: _Calstis1Run, state: _ImsetState) -> None:
    """DQICORR (dodqi.c): saturation, the BPIXTAB runs and the aperture's edges into DQ."""
    info, rinfo = run.raw.info, state.rim.info
    aperture = None
    if not info.is_bias_or_dark:
        height, width = parse_aper_fov(info.aper_fov)
        aperture = ApertureGeometry(
            height, width, _plate_scale_deg(rinfo.cd, run.raw), info.is_imaging
        )
    bpix = run.bpix
    state.imset = flag_bad_pixels(
        state.imset,
        saturate_dn=run.ccd.saturate,
        aperture=aperture,
        runs=bpix.runs if bpix is not None else None,
        table_shape=bpix.shape if bpix is not None else None,
        ltm=rinfo.ltm,
        ltv0=rinfo.ltv0,
    )


def _apply_atodcorr(run: _Calstis1Run, state: _ImsetState) -> None:
    """ATODCORR (doatod.c); a DUMMY row turns the step off from this imset on."""
    raw, rim, plan = run.raw, state.rim, run.plan
    name = raw.path.name
    if rim.info.ncombine > 1:
        raise ReferenceFileError(
            f"{name}: NCOMBINE is already > 1 before ATODCORR has been performed"
        )
    sci = rim.headers["SCI"]

    def key_value(key: str) -> float:
        if key not in sci:
            raise ReferenceFileError(f"{name}: keyword {key} (ATODTAB REF_KEY) not found")
        return card_double(sci, key, 0.0)

    rows = run.refs.get("atod")
    k = select_atod_row(rows, ccdamp=raw.info.ccdamp, ccdgain=raw.info.ccdgain, key_value=key_value)
    if k is None:
        raise ReferenceFileError(
            f"{name}: CCD amp {raw.info.ccdamp}, gain {raw.info.ccdgain}, not found in ATODTAB "
            f"{plan.atod_path.name}"
        )
    row = rows[k]
    if plan.atod_row is None:
        plan.atod_row = row  # RowPedigree: the row's PEDIGREE/DESCRIP go into HISTORY
    if reffiles.is_dummy(row.pedigree):
        plan.atodcorr = "DUMMY"
        return
    if row.atod is None:
        raise ReferenceFileError(f"{plan.atod_path.name}: ATOD array in row {k + 1} is too short")
    state.imset = apply_atod(state.imset, row.atod)


def _apply_blevcorr(run: _Calstis1Run, state: _ImsetState) -> None:
    """BLEVCORR (doblev.c): the overscan level out, the overscan trimmed, the WCS moved."""
    info, rinfo, ccd = run.raw.info, state.rim.info, run.ccd
    bin_x, bin_y = state.placement.bin_xy
    if bin_x not in (1, 2, 4) or bin_y not in (1, 2, 4):
        raise ReferenceFileError(
            f"{run.raw.path.name}: BLEVCORR needs binning 1, 2 or 4 (found {bin_x} x {bin_y})"
        )
    ny, nx = state.imset.sci.shape
    result = subtract_overscan_bias(
        state.imset,
        layout=find_overscan(info.ccdamp, nx, ny, (bin_x, bin_y)),
        sdqflags=rinfo.sdqflags,
        ccdbias_dn=ccd.ccdbias,
        blev_clip=ccd.blev_clip,
    )
    state.imset = result.imset
    out = state.out
    out.sci_keywords["MEANBLEV"] = header_float(np.float32(result.meanblev_dn))
    if result.trimmed:
        # BinCoords (bincoords.c) rewrites the whole linear WCS in SCI, ERR and DQ.
        out.all_keywords.update(
            kw.trimmed_wcs_keywords(state.rim.headers["SCI"], result.left, result.bottom)
        )
        ltv1, ltv2 = rinfo.ltv[0] - result.left, rinfo.ltv[1] - result.bottom
        state.placement = placement_from_lt(ltv1, ltv2, rinfo.ltm[0], rinfo.ltm[1])
    if result.used_default_bias:
        run.messages.append("No bias level data, or singular fit; bias from CCDTAB subtracted")
    state.err_init_bias = 0.0
    out.notes["blev_done"] = result.trimmed and not result.used_default_bias
    out.notes["drift"] = bool(result.drift_corrected)


def _initialise_errors(run: _Calstis1Run, state: _ImsetState) -> None:
    """ERR initialisation (doNoise.c) where ERR is still all zero, unless ERR is dropped."""
    state.out.notes["noise_done"] = bool(needs_error_init(state.imset.err))
    if run.keep_err and state.out.notes["noise_done"]:
        state.imset = init_errors(
            state.imset,
            bias_dn=state.err_init_bias,
            gain_e_per_dn=run.ccd.atodgain,
            readnoise_e=run.ccd.readnse,
        )


def _apply_biascorr(run: _Calstis1Run, state: _ImsetState) -> None:
    """BIASCORR (dobias.c): the bias image out."""
    bias = _reference_cut(run, state, "bias", average=False, what="bias image")
    state.imset = subtract_bias(state.imset, bias, ncombine=state.rim.info.ncombine)


def _apply_darkcorr(run: _Calstis1Run, state: _ImsetState) -> None:
    """DARKCORR (dodark.c): the dark, scaled for time, gain and temperature, out; MEANDARK."""
    rinfo = state.rim.info
    hdr = run.refs.get("dark").primary_header
    dark = _reference_cut(run, state, "dark", average=False, what="dark image")
    factor = dark_temperature_factor(
        occdhtav_c=rinfo.occdhtav_c,
        expstart_mjd=rinfo.expstart_mjd,
        ref_temp_c=float(hdr.get("REF_TEMP", 18.0)),
        drk_vs_t=float(hdr.get("DRK_VS_T", 0.07)),
    )
    k = dark_scale(factor=factor, exptime_s=rinfo.exptime_s, gain_e_per_dn=run.ccd.atodgain)
    result = subtract_dark(state.imset, dark, scale=k)
    del dark
    state.imset = result.imset
    state.out.sci_keywords["MEANDARK"] = header_float(result.meandark_dn)


def _apply_flatcorr(run: _Calstis1Run, state: _ImsetState) -> None:
    """FLATCORR (doflat.c): divided by the combined P x D x L flat."""
    flat = _reference_cut(run, state, "flat", average=True, what="flat field")
    state.imset = apply_flat(state.imset, flat)


def _apply_shadcorr(run: _Calstis1Run, state: _ImsetState) -> None:
    """SHADCORR (doshad.c); without a positive EXPTIME the step is IGNORED from here on."""
    exptime = card_double(state.rim.headers["SCI"], "EXPTIME", 0.0)
    if exptime <= 0.0:
        run.messages.append("EXPTIME must be positive if SHADCORR = PERFORM.")
        run.plan.shadcorr = "IGNORED"
        return
    shade = _reference_cut(run, state, "shad", average=True, what="SHADFILE")
    state.imset = correct_shutter_shading(
        state.imset, shade, exptime_s=exptime, ncombine=state.rim.info.ncombine
    )


def _apply_statflag(state: _ImsetState) -> None:
    """STATFLAG (dostat.c): good-pixel statistics into the SCI and ERR headers."""
    stats = compute_statistics(state.imset, sdqflags=state.rim.info.sdqflags)
    sci, err = kw.statistics_keywords(stats)
    state.out.sci_keywords.update(sci)
    state.out.err_keywords.update(err)


#: Switches calstis1 runs before CR rejection ("part a", calstis0.c SetCs1Sw).
_PART_A = ("DQICORR", "ATODCORR", "BLEVCORR", "BIASCORR")
#: Switches that make cs0 run calstis1 after CR rejection ("basic 2-D").
_BASIC_2D = ("DARKCORR", "FLATCORR", "SHADCORR", "PHOTCORR", "LORSCORR", "GLINCORR", "LFLGCORR")


def _materialize(exposure: RawExposure, product: Product) -> RawExposure:
    """The exposure calstis would read back from ``product`` written to disk.

    Header values pass through their written (rounded) form, as calstis
    re-reads them in the next stage (spec §14).
    """
    primary = clean_header(exposure.primary_header.copy())  # as hstio reads it back
    for key, value in product.primary_keywords.items():
        put_keyword(primary, key, value)
    apply_history(primary, product.history)
    if product.suffix == "crj" or "NEXTEND" not in primary:
        put_keyword(primary, "NEXTEND", 3 * len(product.imsets))
    parts = []
    for out in product.imsets:
        headers = {}
        for ext, extra in (
            ("SCI", out.sci_keywords),
            ("ERR", out.err_keywords),
            ("DQ", out.dq_keywords),
        ):
            header = clean_header(out.headers[ext].copy())
            for key, value in {**out.all_keywords, **extra}.items():
                put_keyword(header, key, value)
            headers[ext] = header
        parts.append((out.imset, headers))
    return exposure_from_parts(exposure.path, primary, parts)


def _calstis2(blv: RawExposure, found: dict, notes: list[str], *, flag_inputs: bool):
    """Cosmic-ray rejection of the part-a imsets (calstis2): the ``_crj`` and flagged inputs.

    With ``flag_inputs`` False (no EXPSCORR ``_flt`` will be made from them)
    the flagged inputs are not built and None is returned in their place.
    """
    good = [rim for rim in blv.imsets if rim.headers["SCI"].get("IMSET_OK", True) is not False]
    if len(good) < 2:
        raise ReferenceFileError(
            f"{blv.path.name}: CR rejection needs two or more good imsets, found {len(good)}"
        )
    gain = float(blv.primary_header.get("ATODGAIN", 0.0))
    readnse = float(blv.primary_header.get("READNSE", 0.0))
    if gain == 0.0:
        raise ReferenceFileError(
            f"{blv.path.name}: ATODGAIN is 0 in the CR-rejection input (no part-a step ran)"
        )
    exptime, exptot = stack_exposure_times([rim.info.exptime_s for rim in good])
    params, meanexp = reffiles.read_crrejtab(
        found["CRREJTAB"], n_imsets=len(good), exptot_s=float(exptot), obstype=blv.info.obstype
    )
    noise, gains = noise_and_gain(readnse, gain, len(good))
    by_rows = [rim.sci_and_dq_by_rows() for rim in good]  # spooled images stay on disk
    result = reject_cosmic_rays(
        [sci for sci, _ in by_rows],  # a list, not a stacked copy
        [dq for _, dq in by_rows],
        exptime_s=exptime,
        noise_dn=noise,
        gain_e_per_dn=gains,
        params=params,
        flag_inputs=flag_inputs,
    )
    temptot = exposure_weighted_temperature(
        [rim.headers["SCI"].get("OCCDHTAV") for rim in good], exptime
    )
    expstart = min(rim.info.expstart_mjd for rim in good)
    expend = max(rim.info.expend_mjd for rim in good)
    primary_keywords = kw.crj_primary_keywords(
        result, params, meanexp_s=meanexp, expstart=expstart, expend=expend, cal_ver=CAL_VER
    )
    sci_keywords = kw.crj_sci_keywords(
        result, expstart=expstart, expend=expend, ncombine=len(good), temptot=temptot
    )
    combined = Imset(result.sci, result.err, result.dq)
    crj = Product(
        "crj",
        primary_keywords,
        [],  # calstis2 writes no HISTORY (cr_history.c sets keywords only)
        # calstis2 takes the headers of input imset 1.
        [OutputImset(combined, blv.imsets[0].headers, sci_keywords=sci_keywords)],
        blv.primary_header,
    )
    notes.append(f"CR rejection: {result.n_rejected} pixels rejected, sky {result.sky_dn}")
    if not flag_inputs:
        return crj, None
    return crj, _flagged_inputs(blv, good, result.input_dq)


def _flagged_inputs(blv: RawExposure, good: list, input_dq) -> RawExposure:
    """The part-a exposure with each good imset's DQ carrying its CR flags (crrej_loop.c)."""
    flagged = []
    k = 0
    good_ids = {id(rim) for rim in good}
    for rim in blv.imsets:
        if id(rim) in good_ids:
            flagged.append((rim.with_dq(input_dq[k]), rim.headers))
            k += 1
        else:
            flagged.append((rim.with_dq(None), rim.headers))
    return exposure_from_parts(blv.path, blv.primary_header, flagged)


def _calibrate_with_cr_rejection(
    raw: RawExposure,
    found: dict,
    performed: set[str],
    messages: list[str],
    consume: bool,
    spool_above_bytes: int,
) -> RunResult:
    """cs0's CR path (spec §1.5): part a, calstis2, then calstis1 on the combined image.

    ``consume``: part a may let each raw imset go once it has read it. Part-a
    imsets larger than ``spool_above_bytes`` in all go to a temporary file
    (calstis's ``_blv_tmp``) instead of memory.
    """
    part_a = {s for s in performed if s in _PART_A}
    basic = {s for s in performed if s in _BASIC_2D}
    # Only an EXPSCORR _flt reads the part-a ERR arrays and the flagged inputs.
    make_flt = bool(basic) and raw.info.performs("EXPSCORR")
    big = _part_a_bytes(raw, keep_err=make_flt) > spool_above_bytes
    with ImageSpool() if part_a and big else nullcontext() as spool:
        blv = raw
        if part_a:
            product = _calstis1(
                raw, found, part_a, False, messages, "blv_tmp",
                keep_err=make_flt, consume=consume, spool=spool,
            )  # fmt: skip
            if product is None:
                return RunResult([], messages, _NOTHING_RUNNABLE)
            blv = _materialize(raw, product)
            del product
        notes: list[str] = []
        crj, flagged_blv = _calstis2(blv, found, notes, flag_inputs=make_flt)
        if not basic:
            return RunResult([crj], messages, notes=notes)
        crj_tmp = _materialize(blv, crj)
        del blv, crj  # the combined image lives on in crj_tmp; the part-a imsets are done
        final = _calstis1(crj_tmp, found, basic, raw.info.statflag, messages, "crj", consume=True)
        if final is None:
            return RunResult([], messages, _NOTHING_RUNNABLE, notes)
        products = [final]
        del crj_tmp
        if make_flt:
            flt = _calstis1(
                flagged_blv, found, basic, raw.info.statflag, messages, "flt", consume=True
            )
            if flt is not None:
                products.append(flt)
        return RunResult(products, messages, notes=notes)


def _part_a_bytes(raw: RawExposure, *, keep_err: bool) -> int:
    """Bytes the part-a imsets would hold in memory: SCI float32, DQ int16, ERR if kept."""
    per_pixel = 4 + 2 + (4 if keep_err else 0)
    return (
        sum(
            int(rim.headers["SCI"].get("NAXIS1", 0)) * int(rim.headers["SCI"].get("NAXIS2", 0))
            for rim in raw.imsets
        )
        * per_pixel
    )
