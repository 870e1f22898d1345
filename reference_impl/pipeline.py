"""Which switch runs which step, in what order, and what each product's headers say.

This is the only module that knows the order of the 2-D CCD steps (spec §1.5,
§1.8; hstcal ``cs0/calstis0.c``, ``cs1/do2d.c``, ``cs1/getflags1.c``):

    DQICORR -> ATODCORR -> BLEVCORR -> ERR initialisation -> BIASCORR -> DARKCORR
    -> FLATCORR -> SHADCORR -> (PHOTMODE, PHOTCORR on the first good imset) -> STATFLAG

per imset, for a run without cosmic-ray rejection. With CRCORR on two or more
imsets calstis splits the run around calstis2 (DQICORR, ATODCORR, BLEVCORR,
BIASCORR before it; the rest after it, on the ``_crj``).
"""

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from reference_impl.errors import RawInputError, ReferenceFileError
from reference_impl.geometry import find_overscan, placement_from_lt
from reference_impl.imset import Imset, no_err
from reference_impl.io import atodtab, phottables, reffiles
from reference_impl.io.hstio_header import apply_history
from reference_impl.io.hstio_header import clean as clean_header
from reference_impl.io.hstio_header import put as put_keyword
from reference_impl.io.hstio_numbers import card_double
from reference_impl.io.rawfile import RawExposure, RawImset, exposure_from_parts
from reference_impl.numerics import DoubleKeyword, header_float
from reference_impl.radial_velocity import heliocentric_radial_velocity_km_s
from reference_impl.steps.atodcorr import apply_atod, select_atod_row
from reference_impl.steps.biascorr import subtract_bias
from reference_impl.steps.blevcorr import subtract_overscan_bias
from reference_impl.steps.crcorr import reject_cosmic_rays
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
        if path not in plan.pedigrees:
            plan.pedigrees[path] = reffiles.read_pedigree(path)
        return plan.pedigrees[path][0]

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


def calibrate(raw: RawExposure, *, oref_dir: Path | None = None) -> RunResult:
    """
    Reproduce what cs0.e writes for this raw file's header switches.

    Parameters
    ----------
    raw : RawExposure
        From `reference_impl.io.rawfile.read_raw`.
    oref_dir : Path, optional
        Directory for ``oref$`` names (else the ``oref`` environment variable).

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
        product = _calstis1(raw, found, performed, info.statflag, messages, "flt")
        if product is None:
            return RunResult([], messages, _NOTHING_RUNNABLE)
        return RunResult([product], messages)
    return _calibrate_with_cr_rejection(raw, found, performed, messages)


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
) -> "Product | None":
    """One calstis1 run over every imset of ``raw`` with the switches in ``perform``.

    Returns None when no step is runnable (calstis then writes nothing).
    ``keep_err=False`` drops each imset's ERR once it is calibrated (the
    part-a run of the CR path when nothing downstream reads it: calstis2
    combines SCI and DQ only). ``consume=True`` is for an intermediate the
    pipeline made itself (``_crj_tmp``, the flagged ``_blv_tmp``): each imset's
    arrays are let go as soon as its first step has read them.
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
    # A DUMMY step is not runnable on its own (getflags1.c): with only a DUMMY
    # DQICORR calstis writes nothing, although it flags saturation when another
    # step runs.
    runnable = (
        plan.dqicorr == "PERFORM"
        or plan.blevcorr == "PERFORM"
        or plan.biascorr == "PERFORM"
        or plan.darkcorr == "PERFORM"
        or plan.flatcorr == "PERFORM"
        or plan.photcorr == "PERFORM"
        or plan.atodcorr == "PERFORM"
        or plan.shadcorr == "PERFORM"
    )
    if not runnable:
        return None

    bpix = None
    if plan.dqicorr == "PERFORM" and plan.bpix_path is not None:
        bpix = reffiles.read_bpixtab(plan.bpix_path, opt_elem=info.opt_elem)
        if bpix.n_out_of_range:
            messages.append(f"{bpix.n_out_of_range} BPIXTAB rows start out of range; ignored")
    refs = _References(plan)
    verdicts = [_is_bad_imset(raw, rim) for rim in raw.imsets]  # once: each reads SCI
    good = [k for k, bad in enumerate(verdicts) if not bad]
    last_good = good[-1] if good else None

    out_imsets: list[OutputImset] = []
    n_good = 0
    primary_keywords: dict = {"CAL_VER": CAL_VER}
    history: list[str] = []
    first_good_is_imset1 = False
    for k, rim in enumerate(raw.imsets):
        helio = _helio_keywords(raw, rim)
        bad = verdicts[k]
        if bad:
            messages.append(bad)
            out_imsets.append(
                OutputImset(
                    rim.imset.copy(), rim.headers, sci_keywords={**helio, "IMSET_OK": False}
                )
            )
            continue
        n_good += 1
        out = _calibrate_imset(
            raw,
            rim,
            ccd=ccd,
            plan=plan,
            bpix=bpix,
            refs=refs,
            is_last=k == last_good,
            consume=consume,
            keep_err=keep_err,
            messages=messages,
        )
        if not keep_err:
            out.imset = Imset(out.imset.sci, no_err(out.imset.sci.shape), out.imset.dq)
        out.sci_keywords.update(helio)
        out_imsets.append(out)
        if n_good == 1:
            first_good_is_imset1 = rim.info.extver == 1
            primary_keywords.update(_primary_updates(raw, rim, ccd, plan, history, out.notes))
            primary_keywords.update(_photometry_updates(raw, rim, ccd, plan, history, messages))

    if not first_good_is_imset1:
        # calstis makes its primary-header changes on the first good imset, but
        # the primary header reaches the file only with imset 1.
        primary_keywords = {"CAL_VER": CAL_VER}
        history = []
    return Product(suffix, primary_keywords, history, out_imsets, raw.primary_header)


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
    return {"V_HELIO": _double_keyword(velocity)}


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
    history.append("CCD parameters table ...")
    history += _table_history(
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
            history.append("Uncertainty array initialized.")  # noiseHistory, after blevHistory
    return keywords


#: Comments calstis gives the photometry keywords (dophot.c).
_PHOT_COMMENTS = {
    "PHOTFLAM": "inverse sensitivity",
    "PHOTZPT": "zero point",
    "PHOTPLAM": "pivot wavelength",
    "PHOTBW": "RMS bandwidth",
}


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
        for key, value in result.keywords.items():
            # Put_KeyF keeps an existing card's comment; a new card gets calstis's.
            if key in raw.primary_header:
                keywords[key] = _float_keyword(value)
            else:
                keywords[key] = (_float_keyword(value), _PHOT_COMMENTS[key])
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


def _table_history(name: str, pedigree: str, descrip: str, descrip2: str = "") -> list[str]:
    """tabhistory.c: the table's name, PEDIGREE, DESCRIP and the row's DESCRIP (when set)."""
    lines = [f"  reference table {name.strip()}"]
    lines += [f"    {text.strip()}" for text in (pedigree, descrip, descrip2) if text.strip()]
    return lines


def _image_history(name: str, pedigree: str, descrip: str) -> list[str]:
    """imghistory.c: the image's name, PEDIGREE and DESCRIP (when set)."""
    lines = [f"  reference image {name.strip()}"]
    lines += [f"    {text.strip()}" for text in (pedigree, descrip) if text.strip()]
    return lines


def _step_history(raw, plan: _StepPlan, switch: str, value: str, notes: dict) -> list[str]:
    """history1.c: a step's HISTORY lines (UpdateSwitch, then the reference files used)."""
    refs = raw.info.references
    status = {
        "PERFORM": "complete ...",
        "DUMMY": "skipped due to dummy reference file ...",
        "IGNORED": "not performed ...",  # UpdateSwitch: no reference files logged then
    }[value]

    def pedigree_of(path: Path | None) -> tuple[str, str]:
        if path is None:
            return "", ""
        if path not in plan.pedigrees:
            plan.pedigrees[path] = reffiles.read_pedigree(path)
        return plan.pedigrees[path]

    if switch == "BLEVCORR":  # blevHistory: no reference file
        lines = [
            "BLEVCORR complete; bias level from overscan was subtracted."
            if notes.get("blev_done")
            else "BLEVCORR complete, but default bias level was subtracted.",
            "BLEVCORR includes correction for drift along lines."
            if notes.get("drift")
            else "BLEVCORR does not include correction for drift along lines.",
        ]
        return lines
    lines = [f"{switch} {status}"]
    if value == "IGNORED":
        return lines
    if switch == "DQICORR":
        lines.append("  values checked for saturation")
        if plan.bpix_path is not None:
            lines.append("  DQ array initialized ...")
            lines += _table_history(refs.get("BPIXTAB", ""), *pedigree_of(plan.bpix_path))
    elif switch in ("BIASCORR", "DARKCORR"):
        keyword = "BIASFILE" if switch == "BIASCORR" else "DARKFILE"
        path = plan.bias_path if switch == "BIASCORR" else plan.dark_path
        lines += _image_history(refs.get(keyword, ""), *pedigree_of(path))
    elif switch == "FLATCORR":
        for keyword in ("PFLTFILE", "DFLTFILE", "LFLTFILE"):
            if not reffiles.is_blank_name(refs.get(keyword)):
                path = plan.flat_paths.get(keyword) or plan.flat_all.get(keyword)
                lines += _image_history(refs.get(keyword, ""), *pedigree_of(path))
    # atodHistory, shadHistory, photHistory (history1.c). Their file-level
    # PEDIGREE/DESCRIP are logged; HISTORY is not compared by the shipped policy and
    # these three steps' lines have not been checked card by card against cs0.e.
    elif switch == "ATODCORR":
        pedigree, descrip = pedigree_of(plan.atod_path)
        row = plan.atod_row
        if row is not None and row.has_pedigree:
            pedigree = row.pedigree
        descrip2 = row.descrip or "" if row is not None else ""
        lines += _table_history(refs.get("ATODTAB", ""), pedigree, descrip, descrip2)
    elif switch == "SHADCORR":
        lines += _image_history(refs.get("SHADFILE", ""), *pedigree_of(plan.shad_path))
    elif switch == "PHOTCORR":
        lines += _table_history(refs.get("IMPHTTAB", ""), *pedigree_of(plan.phot_path))
        if plan.tdscorr == "PERFORM":
            lines += _table_history(refs.get("TDSTAB", ""), *pedigree_of(plan.tds_path))
        else:
            lines.append("  Note:  Time-dependent sensitivity was not included with PHOTCORR")
    return lines


def _cut(ref, rim_info, shape, *, average: bool, what: str) -> Imset:
    return reffiles.cut_to_science(ref, rim_info.placement, shape, average=average, what=what)


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


def _calibrate_imset(
    raw,
    rim: RawImset,
    *,
    ccd,
    plan: _StepPlan,
    bpix,
    refs: _References,
    is_last: bool,
    consume: bool,
    keep_err: bool,
    messages: list[str],
) -> OutputImset:
    """Run the per-imset steps of one calstis1 run on one good imset (do2d.c order).

    ``is_last``: no later imset of this run needs the reference images.
    ``consume``: ``rim`` belongs to the pipeline; its arrays may go once read.
    ``keep_err`` False: the caller drops ERR (see `_calstis1`), so it is not
    initialised.
    """
    info, rinfo = raw.info, rim.info
    current = rim.imset
    if consume:
        rim.imset = None  # from here on `current` holds the only reference
    # The imset goes in at the end: holding the input here would keep its
    # arrays alive through every step.
    out = OutputImset(None, rim.headers)

    if plan.dqicorr != "OMIT":
        aperture = None
        if not info.is_bias_or_dark:
            height, width = parse_aper_fov(info.aper_fov)
            aperture = ApertureGeometry(
                height, width, _plate_scale_deg(rinfo.cd, raw), info.is_imaging
            )
        current = flag_bad_pixels(
            current,
            saturate_dn=ccd.saturate,
            aperture=aperture,
            runs=bpix.runs if bpix is not None else None,
            table_shape=bpix.shape if bpix is not None else None,
            ltm=rinfo.ltm,
            ltv0=rinfo.ltv0,
        )

    if plan.atodcorr == "PERFORM":
        current = _atod_imset(raw, rim, current, plan, refs)

    placement = rinfo.placement
    if plan.blevcorr == "PERFORM":
        bin_x, bin_y = placement.bin_xy
        if bin_x not in (1, 2, 4) or bin_y not in (1, 2, 4):
            raise ReferenceFileError(
                f"{raw.path.name}: BLEVCORR needs binning 1, 2 or 4 (found {bin_x} x {bin_y})"
            )
        ny, nx = current.sci.shape
        layout = find_overscan(info.ccdamp, nx, ny, (bin_x, bin_y))
        result = subtract_overscan_bias(
            current,
            layout=layout,
            sdqflags=rinfo.sdqflags,
            ccdbias_dn=ccd.ccdbias,
            blev_clip=ccd.blev_clip,
        )
        current = result.imset
        out.sci_keywords["MEANBLEV"] = header_float(np.float32(result.meanblev_dn))
        if result.trimmed:
            hdr = rim.headers["SCI"]
            ltv1, ltv2 = rinfo.ltv[0] - result.left, rinfo.ltv[1] - result.bottom
            # BinCoords (bincoords.c) rewrites the whole linear WCS in SCI, ERR and DQ,
            # read from the SCI header with defaults, each as a 13-digit double.
            wcs = {
                "CRPIX1": card_double(hdr, "CRPIX1", 0.0) - result.left,
                "CRPIX2": card_double(hdr, "CRPIX2", 0.0) - result.bottom,
                "LTV1": card_double(hdr, "LTV1", 0.0) - result.left,
                "LTV2": card_double(hdr, "LTV2", 0.0) - result.bottom,
            }
            for key, default in (
                ("LTM1_1", 1.0), ("LTM2_2", 1.0),
                ("CD1_1", 1.0), ("CD1_2", 0.0), ("CD2_1", 0.0), ("CD2_2", 1.0),
            ):  # fmt: skip
                wcs[key] = card_double(hdr, key, default)
            out.all_keywords.update({k: _double_keyword(v) for k, v in wcs.items()})
            placement = placement_from_lt(ltv1, ltv2, rinfo.ltm[0], rinfo.ltm[1])
        if result.used_default_bias:
            messages.append("No bias level data, or singular fit; bias from CCDTAB subtracted")
        err_init_bias = 0.0
        out.notes["blev_done"] = result.trimmed and not result.used_default_bias
        out.notes["drift"] = bool(result.drift_corrected)
    else:
        err_init_bias = float(ccd.ccdbias)

    out.notes["noise_done"] = bool(needs_error_init(current.err))
    # Without keep_err the ERR array is dropped after this run: no need to fill it.
    if keep_err and out.notes["noise_done"]:
        current = init_errors(
            current, bias_dn=err_init_bias, gain_e_per_dn=ccd.atodgain, readnoise_e=ccd.readnse
        )

    shape = current.sci.shape
    rinfo_now = replace(rinfo, placement=placement)
    if plan.biascorr == "PERFORM":
        bias = _cut(refs.get("bias"), rinfo_now, shape, average=False, what="bias image")
        if is_last:
            refs.release("bias")
        current = subtract_bias(current, bias, ncombine=rinfo.ncombine)
        del bias

    if plan.darkcorr == "PERFORM":
        dark_ref = refs.get("dark")
        if is_last:
            refs.release("dark")
        dark = _cut(dark_ref, rinfo_now, shape, average=False, what="dark image")
        hdr = dark_ref.primary_header
        del dark_ref
        factor = dark_temperature_factor(
            occdhtav_c=rinfo.occdhtav_c,
            expstart_mjd=rinfo.expstart_mjd,
            ref_temp_c=float(hdr.get("REF_TEMP", 18.0)),
            drk_vs_t=float(hdr.get("DRK_VS_T", 0.07)),
        )
        k = dark_scale(factor=factor, exptime_s=rinfo.exptime_s, gain_e_per_dn=ccd.atodgain)
        result = subtract_dark(current, dark, scale=k)
        del dark
        current = result.imset
        out.sci_keywords["MEANDARK"] = header_float(result.meandark_dn)

    if plan.flatcorr == "PERFORM":
        flat = _cut(refs.get("flat"), rinfo_now, shape, average=True, what="flat field")
        if is_last:
            refs.release("flat")
        current = apply_flat(current, flat)
        del flat

    if plan.shadcorr == "PERFORM":
        exptime = card_double(rim.headers["SCI"], "EXPTIME", 0.0)
        if exptime <= 0.0:
            messages.append("EXPTIME must be positive if SHADCORR = PERFORM.")
            plan.shadcorr = "IGNORED"
        else:
            shade = _cut(refs.get("shad"), rinfo_now, shape, average=True, what="SHADFILE")
            if is_last:
                refs.release("shad")
            current = correct_shutter_shading(
                current, shade, exptime_s=exptime, ncombine=rinfo.ncombine
            )
            del shade

    if plan.statflag:
        stats = compute_statistics(current, sdqflags=rinfo.sdqflags)
        out.sci_keywords["NGOODPIX"] = stats.ngoodpix
        out.err_keywords["NGOODPIX"] = stats.ngoodpix
        if stats.ngoodpix:
            for key, value in (
                ("GOODMIN", stats.goodmin),
                ("GOODMAX", stats.goodmax),
                ("GOODMEAN", stats.goodmean),
                ("SNRMIN", stats.snrmin),
                ("SNRMAX", stats.snrmax),
                ("SNRMEAN", stats.snrmean),
            ):
                out.sci_keywords[key] = header_float(value)
            for key, value in (
                ("GOODMIN", stats.err_goodmin),
                ("GOODMAX", stats.err_goodmax),
                ("GOODMEAN", stats.err_goodmean),
            ):
                out.err_keywords[key] = header_float(value)
    out.imset = current
    return out


def _atod_imset(raw, rim: RawImset, current: Imset, plan: _StepPlan, refs) -> Imset:
    """ATODCORR on one imset (doatod.c); a DUMMY row turns the step off from here on."""
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

    rows = refs.get("atod")
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
        return current
    if row.atod is None:
        raise ReferenceFileError(f"{plan.atod_path.name}: ATOD array in row {k + 1} is too short")
    return apply_atod(current, row.atod)


#: Switches calstis1 runs before CR rejection ("part a", calstis0.c SetCs1Sw).
_PART_A = ("DQICORR", "ATODCORR", "BLEVCORR", "BIASCORR")
#: Switches that make cs0 run calstis1 after CR rejection ("basic 2-D").
_BASIC_2D = ("DARKCORR", "FLATCORR", "SHADCORR", "PHOTCORR", "LORSCORR", "GLINCORR", "LFLGCORR")


_DoubleCard = DoubleKeyword


class _FloatCard(float):
    """A float keyword's value whose card text is calstis's ``%#14.7E`` (Put_KeyF)."""

    def __str__(self) -> str:
        return f"{float(self):.7E}"


def _float_keyword(x) -> float:
    """A float keyword as calstis writes it: rounded to float32, 8 significant digits."""
    return _FloatCard(f"{float(np.float32(x)):.7E}")


def _double_keyword(x: float) -> float:
    """A double keyword as calstis writes it (``%#20.12E``, 13 significant digits)."""
    return _DoubleCard(f"{float(x):.12E}")


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
    info = blv.info
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
    g32, r32 = np.float32(gain), np.float32(readnse)
    noise = np.float32(r32 / g32)
    exptime = np.array([np.float32(rim.info.exptime_s) for rim in good], dtype=np.float32)
    exptot = np.cumsum(exptime, dtype=np.float32)[-1]
    params, meanexp = reffiles.read_crrejtab(
        found["CRREJTAB"], n_imsets=len(good), exptot_s=float(exptot), obstype=info.obstype
    )
    result = reject_cosmic_rays(
        [rim.imset.sci for rim in good],  # a list, not a stacked copy
        [rim.imset.dq for rim in good],
        exptime_s=exptime,
        noise_dn=np.full(len(good), noise, dtype=np.float32),
        gain_e_per_dn=np.full(len(good), g32, dtype=np.float32),
        params=params,
        flag_inputs=flag_inputs,
    )
    temps = [rim.headers["SCI"].get("OCCDHTAV") for rim in good]
    temptot = np.float32(0.0)
    for t, e in zip(temps, exptime, strict=True):
        t32 = np.float32(-1.0) if t is None else np.float32(t)
        temptot = np.float32(temptot + np.float32(t32 * e))
    expstart = min(rim.info.expstart_mjd for rim in good)
    expend = max(rim.info.expend_mjd for rim in good)

    # In calstis2's order (crrej_do.c, then cr_history.c): keywords the header
    # lacks are appended in this order.
    primary_keywords = {
        "TEXPTIME": _float_keyword(result.exptot_s),
        "SKYSUM": header_float(result.skysum_dn),
    }
    if result.exptot_s > 0:
        primary_keywords["REJ_RATE"] = header_float(
            np.float32(np.float32(result.n_rejected) / result.exptot_s)
        )
    primary_keywords.update(
        {
            "TEXPSTRT": _double_keyword(expstart),
            "TEXPEND": _double_keyword(expend),
            "INITGUES": params.initial,
            "SKYSUB": params.skysub,
            "CRSIGMAS": params.sigmas_text,
            "MEANEXP": header_float(np.float32(meanexp)),
            "CRRADIUS": header_float(params.radius_pix),
            "CRTHRESH": header_float(params.thresh),
            "SCALENSE": header_float(params.scalense_percent),
            "BADINPDQ": params.badinpdq,
            "CRMASK": params.crmask,
            "CRCORR": "COMPLETE",
            "CAL_VER": CAL_VER,
        }
    )
    first = blv.imsets[0]  # calstis2 takes the headers of input imset 1
    sci_keywords = {
        "EXPTIME": _float_keyword(result.exptot_s),
        "EXPSTART": _double_keyword(expstart),
        "EXPEND": _double_keyword(expend),
        "NCOMBINE": len(good),
    }
    if result.exptot_s > 0 and temptot > 0:
        # As written (%.7E), so the next stage's hstio read (PHOTCORR) sees calstis's text.
        sci_keywords["OCCDHTAV"] = _float_keyword(np.float32(temptot / result.exptot_s))
    crj = Product(
        "crj",
        primary_keywords,
        [],  # calstis2 writes no HISTORY (cr_history.c sets keywords only)
        [
            OutputImset(
                Imset(result.sci, result.err, result.dq), first.headers, sci_keywords=sci_keywords
            )
        ],
        blv.primary_header,
    )
    notes.append(f"CR rejection: {result.n_rejected} pixels rejected, sky {result.sky_dn}")
    if not flag_inputs:
        return crj, None
    # The inputs carry the CR flags of the last iteration (crrej_loop.c).
    flagged = []
    k = 0
    good_ids = {id(rim) for rim in good}
    for rim in blv.imsets:
        if id(rim) in good_ids:
            dq = result.input_dq[k]
            k += 1
        else:
            dq = rim.imset.dq
        flagged.append((Imset(rim.imset.sci, rim.imset.err, dq), rim.headers))
    flagged_blv = exposure_from_parts(blv.path, blv.primary_header, flagged)
    return crj, flagged_blv


def _calibrate_with_cr_rejection(
    raw: RawExposure, found: dict, performed: set[str], messages: list[str]
) -> RunResult:
    """cs0's CR path (spec §1.5): part a, calstis2, then calstis1 on the combined image."""
    part_a = {s for s in performed if s in _PART_A}
    basic = {s for s in performed if s in _BASIC_2D}
    # Only an EXPSCORR _flt reads the part-a ERR arrays and the flagged inputs.
    make_flt = bool(basic) and raw.info.performs("EXPSCORR")
    blv = raw
    if part_a:
        product = _calstis1(raw, found, part_a, False, messages, "blv_tmp", keep_err=make_flt)
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
    products = []
    final = _calstis1(crj_tmp, found, basic, raw.info.statflag, messages, "crj", consume=True)
    if final is None:
        return RunResult([], messages, _NOTHING_RUNNABLE, notes)
    products.append(final)
    del crj_tmp
    if make_flt:
        flt = _calstis1(flagged_blv, found, basic, raw.info.statflag, messages, "flt", consume=True)
        if flt is not None:
            products.append(flt)
    return RunResult(products, messages, notes=notes)
