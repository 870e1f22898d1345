"""Assemble a synthetic data set: the raw exposure, its reference files and a manifest.

`build_dataset` draws everything in memory (arrays, headers, the cosmic-ray
truth); `write_dataset` writes ``<rootname>_raw.fits``, ``oref/`` and
``manifest.json``. Each concern draws from its own random stream,
``default_rng([seed, crc32(name)])``, so changing one part of the model does
not reshuffle the others.
"""

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from stischeck.synth import fitsio, photometry
from stischeck.synth.cosmic import cosmic_ray_charge
from stischeck.synth.detector import (
    FULL_WELL_E,
    amp_constants,
    bias_pattern,
    bleed_columns,
    overscan_bias,
    read_out,
)
from stischeck.synth.geometry import ReadoutGeometry, bin_to_raw, readout_geometry
from stischeck.synth.params import APERTURES, SynthParams, default_rootname, validate
from stischeck.synth.references import (
    bias_reference,
    ccdtab_rows,
    crrejtab_rows,
    dark_reference,
    flat_references,
    make_detector,
    reference_band,
)
from stischeck.synth.scene import PLATE_SCALE_ARCSEC, imaging_scene, spectral_scene

__all__ = ["DatasetPaths", "SynthDataset", "build_dataset", "write_dataset", "GENERATOR_VERSION"]

GENERATOR_VERSION = "1.0"
#: Readout and overhead between imsets, seconds.
_GAP_S = 45.0
#: Dark reference header values (spec §9).
REF_TEMP_C, DRK_VS_T = 18.0, 0.07
_DISPERSION = {"G430L": (2.73, 4300), "G750L": (4.92, 7751)}
_SWITCHES = (
    "DQICORR ATODCORR BLEVCORR BIASCORR CRCORR RPTCORR EXPSCORR DARKCORR FLATCORR SHADCORR "
    "PHOTCORR WAVECORR X1DCORR BACKCORR HELCORR DISPCORR FLUXCORR CTECORR SC2DCORR X2DCORR "
    "GEOCORR SGEOCORR LORSCORR GLINCORR LFLGCORR DOPPCORR"
).split()
#: Switches set to PERFORM in a synthetic raw file: the six 2-D steps calstis runs.
PERFORM = ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "DARKCORR", "FLATCORR")
_SUFFIX = {
    "BPIXTAB": "bpx",
    "CCDTAB": "ccd",
    "CRREJTAB": "crr",
    "BIASFILE": "bia",
    "DARKFILE": "drk",
    "PFLTFILE": "pfl",
    "DFLTFILE": "dfl",
    "LFLTFILE": "lfl",
    "IMPHTTAB": "imp",
    "TDSTAB": "tds",
    "ATODTAB": "a2d",
    "SHADFILE": "shd",
}
_DROPOUT_LEN = 64


def _rng(seed: int, concern: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(concern.encode())])


@dataclass(frozen=True)
class DatasetPaths:
    """Where `write_dataset` put the files.

    Attributes
    ----------
    root : Path
        The output folder.
    raw : Path
        ``<rootname>_raw.fits``.
    oref : Path
        Folder of the reference files (point calstis's ``oref`` at it, with a trailing ``/``).
    manifest : Path
        ``manifest.json``.
    references : dict
        Header keyword (``BIASFILE`` ...) -> reference file path.
    """

    root: Path
    raw: Path
    oref: Path
    manifest: Path
    references: dict


@dataclass
class ImsetDraw:
    """One raw imset: its pixels and what went into them."""

    sci: NDArray[np.uint16]
    dq: NDArray[np.int16] | None
    exptime_s: float
    expstart: float
    expend: float
    occdhtav: float | None
    expname: str
    n_cosmic_rays: int
    cr_hit: NDArray[np.bool_]  # raw-pixel mask of pixels a cosmic ray put charge into
    saturated_raw: int  # raw pixels above SATURATE


@dataclass
class SynthDataset:
    """A data set in memory, ready to write."""

    params: SynthParams
    rootname: str
    geometry: ReadoutGeometry
    imsets: list[ImsetDraw]
    references: dict  # keyword -> (filename, kind, payload)
    scene: dict = field(default_factory=dict)

    @property
    def cr_truth(self) -> list[NDArray[np.bool_]]:
        """Per imset, raw pixels that received cosmic-ray charge above 3 x read noise."""
        return [im.cr_hit for im in self.imsets]


def _names(seed: int) -> dict:
    rng = _rng(seed, "names")
    alphabet = np.array(list("0123456789abcdefghijklmnopqrstuvwxyz"))
    return {
        k: "".join(rng.choice(alphabet, 8)) + "o_" + sfx + ".fits" for k, sfx in _SUFFIX.items()
    }


def _raw_pattern(geometry: ReadoutGeometry, band, pattern_ref, rms, rng) -> NDArray:
    """The fixed bias pattern per raw pixel: the superbias grid inside, random in overscan."""
    raw = bias_pattern((geometry.ny, geometry.nx), rms, rng)
    left, right, bottom, top = geometry.trim
    if geometry.mode == "binned":
        raw[bottom : geometry.ny - top, left : geometry.nx - right] = pattern_ref
    else:
        v0, v1 = geometry.rows
        rows = np.arange(geometry.ny)[bottom : geometry.ny - top]
        vs = geometry.vmap[rows, 0] + v0 - band[0]
        us = geometry.umap[left : geometry.nx - right, 0]
        raw[bottom : geometry.ny - top, left : geometry.nx - right] = pattern_ref[np.ix_(vs, us)]
    return raw


def build_dataset(params: SynthParams) -> SynthDataset:
    """
    Draw a complete data set for ``params`` (validated first).

    Returns
    -------
    SynthDataset

    Raises
    ------
    UsageError
        Parameters that STIS or calstis do not allow.
    """
    p = validate(params)
    root = p.rootname or default_rootname(p.seed)
    geo = readout_geometry(p.amp, p.binning, p.subarray)
    band = reference_band(geo)
    amp = amp_constants(p.amp, p.gain, p.binning)
    n = p.n_imsets
    t_imset = p.exptime_s / n
    aper_fov = APERTURES[p.aperture_name][0]
    model = make_detector(p, _rng(p.seed, "detector"), band)

    # Bias: the fixed pattern lives on the superbias grid (binned like the data).
    rng_bias = _rng(p.seed, "bias")
    if geo.mode == "binned":
        bias_grid = geo.trimmed_shape
        bias_ltv, bias_ltm = geo.trimmed_ltv, geo.ltm
    else:
        bias_grid = (band[1] - band[0], 1024)
        bias_ltv, bias_ltm = (0.0, -float(band[0])), (1.0, 1.0)
    pattern_ref = bias_pattern(bias_grid, p.bias_pattern_dn, rng_bias)
    raw_pattern = _raw_pattern(geo, band, pattern_ref, p.bias_pattern_dn, rng_bias)
    level = amp.ccdbias_dn + rng_bias.normal(0.0, 4.0)

    rng_scene = _rng(p.seed, "scene")
    v0, v1 = geo.rows
    if p.obstype == "IMAGING":
        rate, sources = imaging_scene(
            rng_scene,
            rows=(v0, v1),
            read_rows=(v0, v1),
            aper_fov=aper_fov,
            sky_e_per_s=p.sky_e_per_s,
            n_stars=p.n_stars,
            star_flux=p.star_flux,
            n_saturated=p.n_saturated,
            t_imset_s=t_imset,
        )
        scene = {"n_sources": len(sources), "saturated_stars": p.n_saturated}
    else:
        rate, scene = spectral_scene(
            rng_scene,
            rows=(v0, v1),
            aper_fov=aper_fov,
            sky_e_per_s=p.sky_e_per_s,
            trace_e_per_s=p.trace_e_per_s,
            trace_row=p.trace_row,
            n_saturated=p.n_saturated,
            t_imset_s=t_imset,
        )
    cut = slice(v0 - band[0], v1 - band[0])
    photo_rate = rate * model.response[cut]
    dark_rate = model.dark_true[cut]

    rng_data = _rng(p.seed, "exposures")
    rng_temp = _rng(p.seed, "temperature")
    imsets = []
    start = p.expstart_mjd
    for k in range(1, n + 1):
        occ = None
        if p.occdhtav_c is not None:
            occ = round(p.occdhtav_c + float(rng_temp.normal(0.0, 0.12)), 3)
        factor = 1.0
        if p.is_side2 and occ is not None:
            factor = 1.0 + DRK_VS_T * (occ - REF_TEMP_C)
        lam = photo_rate * t_imset + dark_rate * factor * t_imset
        electrons = rng_data.poisson(lam).astype(np.float64)
        cr, cr_hit, n_cr = cosmic_ray_charge(
            rng_data,
            electrons.shape,
            rate_per_cm2_s=p.cr_rate,
            exptime_s=t_imset,
            truth_threshold_e=3.0 * amp.readnoise_e,
        )
        electrons = bleed_columns(electrons + cr, FULL_WELL_E)
        raw_e = bin_to_raw(electrons, geo)
        bias = raw_pattern + overscan_bias(
            geo,
            level_dn=level + rng_data.normal(0.0, 0.5),
            row_drift_dn=p.bias_row_drift_dn,
            col_drift_dn=p.bias_col_drift_dn,
            ripple_dn=p.bias_ripple_dn,
            ripple_phase=float(rng_data.uniform(0, 2 * np.pi)),
        )
        sci = read_out(
            raw_e, bias, atodgain=amp.atodgain, readnoise_e=amp.readnoise_e, rng=rng_data
        )
        hit_raw = bin_to_raw(cr_hit.astype(np.float64), geo) > 0
        imsets.append(
            ImsetDraw(
                sci=sci,
                dq=None,
                exptime_s=t_imset,
                expstart=start,
                expend=start + t_imset / 86400.0,
                occdhtav=occ,
                expname=f"{root[:6]}{k:02d}q",
                n_cosmic_rays=n_cr,
                cr_hit=hit_raw,
                saturated_raw=int(np.count_nonzero(sci.astype(np.int64) > amp.saturate_dn)),
            )
        )
        start += (t_imset + _GAP_S) / 86400.0
    _drop_out(imsets, p.dropouts, geo, _rng(p.seed, "dropouts"))

    names = _names(p.seed)
    rng_ref = _rng(p.seed, "references")
    refs = {
        "CCDTAB": (names["CCDTAB"], "ccdtab", ccdtab_rows()),
        "CRREJTAB": (names["CRREJTAB"], "crrejtab", crrejtab_rows(p.skysub)),
        "BPIXTAB": (names["BPIXTAB"], "bpixtab", model.bpix_rows),
        "BIASFILE": (
            names["BIASFILE"],
            "bias",
            (
                bias_reference(
                    pattern_ref,
                    noise_dn=amp.readnoise_e / amp.atodgain,
                    n_defects=max(1, p.n_bad_pixels // 8),
                    rng=rng_ref,
                ),
                bias_ltv,
                bias_ltm,
            ),
        ),
        "DARKFILE": (
            names["DARKFILE"],
            "dark",
            (dark_reference(model, rng_ref), (0.0, -float(band[0])), (1.0, 1.0)),
        ),
    }
    flats = flat_references(model, rng_ref)
    for key in ("PFLTFILE", "DFLTFILE"):
        refs[key] = (names[key], "flat", (flats[key], (0.0, -float(band[0])), (1.0, 1.0)))
    refs["LFLTFILE"] = (
        names["LFLTFILE"],
        "flat",
        (flats["LFLTFILE"], (0.375, 0.375 - band[0] / 4.0), (0.25, 0.25)),
    )
    if p.photcorr:
        refs["IMPHTTAB"] = (names["IMPHTTAB"], "imphttab", p.imphttab)
        if p.tdstab != "none":
            refs["TDSTAB"] = (names["TDSTAB"], "tdstab", p.tdstab)
    if p.atodcorr is not None:
        key = "OCCDHTAV" if imsets[0].occdhtav is not None else "EXPTIME"
        value = imsets[0].occdhtav if key == "OCCDHTAV" else imsets[0].exptime_s
        refs["ATODTAB"] = (names["ATODTAB"], "atodtab", (p.atodcorr, key, float(value)))
    if p.shadcorr is not None:
        shade = photometry.shading_reference((band[1] - band[0], 1024), _rng(p.seed, "shading"))
        refs["SHADFILE"] = (names["SHADFILE"], "shad", (shade, (0.0, -float(band[0])), (1.0, 1.0)))
    scene["reference_file_rows_0indexed"] = list(band)
    return SynthDataset(p, root, geo, imsets, refs, scene)


def _drop_out(imsets: list, n: int, geo: ReadoutGeometry, rng) -> None:
    """Telemetry drop-outs: runs of fill (SCI 0) flagged DATALOST (2) in the raw DQ."""
    left, right, bottom, top = geo.trim
    length = min(_DROPOUT_LEN, geo.nx - left - right)
    for _ in range(n):
        im = imsets[int(rng.integers(0, len(imsets)))]
        r = int(rng.integers(bottom, geo.ny - top))
        c = int(rng.integers(left, geo.nx - right - length + 1))
        if im.dq is None:
            im.dq = np.zeros(im.sci.shape, np.int16)
        im.sci[r, c : c + length] = 0
        im.dq[r, c : c + length] |= 2


def _wcs_cards(p: SynthParams, geo: ReadoutGeometry) -> list:
    ltv1, ltv2 = geo.ltv
    bx, by = geo.bin_x, geo.bin_y
    crpix = (512.0 / bx + ltv1, 512.0 / by + ltv2)
    scale = PLATE_SCALE_ARCSEC / 3600.0
    if p.obstype == "IMAGING":
        pa = np.deg2rad(42.1234)
        cd = (
            -scale * np.cos(pa) * bx,
            scale * np.sin(pa) * by,
            scale * np.sin(pa) * bx,
            scale * np.cos(pa) * by,
        )
        crval, ctype = (150.1163, 2.2058), ("RA---TAN", "DEC--TAN")
    else:
        disp, cenwave = _DISPERSION[APERTURES[p.aperture_name][2]]
        cd = (disp * bx, 0.0, 0.0, scale * by)
        crval, ctype = (float(cenwave), 0.0), ("LAMBDA", "ANGLE")
    cards = [
        ("WCSAXES", 2, "number of World Coordinate System axes"),
        ("CRPIX1", crpix[0], "x-coordinate of reference pixel"),
        ("CRPIX2", crpix[1], "y-coordinate of reference pixel"),
        ("CRVAL1", crval[0], "first axis value at reference pixel"),
        ("CRVAL2", crval[1], "second axis value at reference pixel"),
        ("CTYPE1", ctype[0], "the coordinate type for the first axis"),
        ("CTYPE2", ctype[1], "the coordinate type for the second axis"),
        ("CD1_1", float(cd[0]), "partial of first axis coordinate w.r.t. x"),
        ("CD1_2", float(cd[1]), "partial of first axis coordinate w.r.t. y"),
        ("CD2_1", float(cd[2]), "partial of second axis coordinate w.r.t. x"),
        ("CD2_2", float(cd[3]), "partial of second axis coordinate w.r.t. y"),
    ]
    if p.obstype == "SPECTROSCOPIC":
        cards.append(("DISPAXIS", 1, "dispersion axis; 1 = axis 1, 2 = axis 2, none"))
    return cards


def _date_time(mjd: float) -> tuple[str, str]:
    from astropy.time import Time

    iso = Time(mjd, format="mjd", scale="utc").isot
    return iso[:10], iso[11:19]


def _primary_cards(ds: SynthDataset) -> list:
    p, geo, first = ds.params, ds.geometry, ds.imsets[0]
    aper_fov, _, opt_elem = APERTURES[p.aperture_name]
    date, time = _date_time(first.expstart)
    root = ds.rootname
    switches = {sw: "OMIT" for sw in _SWITCHES}
    for sw in PERFORM:
        switches[sw] = "PERFORM"
    if p.expscorr:
        switches["EXPSCORR"] = "PERFORM"
    if p.photcorr:
        switches["PHOTCORR"] = "PERFORM"
    if p.atodcorr is not None:
        switches["ATODCORR"] = "PERFORM"
    if p.shadcorr is not None:
        switches["SHADCORR"] = "PERFORM"
    if p.subarray is None:
        sizes = (1062, 1044) if geo.mode == "full" else (geo.nx * geo.bin_x, geo.ny * geo.bin_y)
        centre = (532, 523)
    else:
        sizes = (1060, p.subarray[1])
        centre = (532, p.subarray[0] + p.subarray[1] // 2)
    s = ""
    cards = [
        ("NEXTEND", 3 * p.n_imsets, "Number of standard extensions"),
        ("DATE", date, "date this file was written (yyyy-mm-dd)"),
        ("FILENAME", f"{root}_raw.fits", "name of file"),
        ("FILETYPE", "SCI", "type of data found in data file"),
        ("TELESCOP", "HST", "telescope used to acquire data"),
        ("INSTRUME", "STIS", "identifier for instrument used to acquire data"),
        ("EQUINOX", 2000.0, "equinox of celestial coord. system"),
        (s, "/ DATA DESCRIPTION KEYWORDS", s),
        ("ROOTNAME", root, "rootname of the observation set"),
        ("ASN_ID", root.upper(), "unique identifier assigned to association"),
        ("ASN_TAB", f"{root}_asn.fits", "name of the association table"),
        ("PRIMESI", "STIS", "instrument designated as prime"),
        (s, "/ TARGET INFORMATION", s),
        (
            "TARGNAME",
            "SYNTHETIC-FIELD" if p.obstype == "IMAGING" else "SYNTHETIC-STAR",
            "proposer's target name",
        ),
        ("RA_TARG", 150.1163, "right ascension of the target (deg) (J2000)"),
        ("DEC_TARG", 2.2058, "declination of the target (deg) (J2000)"),
        (s, "/ PROPOSAL INFORMATION", s),
        ("PROPOSID", 99999, "PEP proposal identifier"),
        ("LINENUM", "01.010", "proposal logsheet line number"),
        ("PR_INV_L", "Synthetic", "last name of principal investigator"),
        ("PR_INV_F", "Data", "first name of principal investigator"),
        (s, "/ EXPOSURE INFORMATION", s),
        ("TDATEOBS", date, "UT date of start of first exposure in file"),
        ("TTIMEOBS", time, "UT start time of first exposure in file"),
        ("TEXPSTRT", round(first.expstart, 8), "start time (MJD) of 1st exposure in file"),
        ("TEXPEND", round(ds.imsets[-1].expend, 8), "end time (MJD) of last exposure in the file"),
        ("TEXPTIME", float(sum(im.exptime_s for im in ds.imsets)), "total exposure time (seconds)"),
        ("QUALCOM1", "", ""),
        ("QUALCOM2", "", ""),
        ("QUALCOM3", "", ""),
        ("QUALITY", "", "data quality description"),
        (s, "/ POINTING INFORMATION", s),
        ("PA_V3", 123.4567, "position angle of V3-axis of HST (deg)"),
        (s, "/ TARGET OFFSETS (POSTARGS)", s),
        ("POSTARG1", 0.0, "POSTARG in axis 1 direction"),
        ("POSTARG2", 0.0, "POSTARG in axis 2 direction"),
        (s, "/ SCIENCE INSTRUMENT CONFIGURATION", s),
        ("OBSTYPE", p.obstype, "observation type - imaging or spectroscopic"),
        ("OBSMODE", "ACCUM", "operating mode"),
        ("PHOTMODE", "", "observation configuration for photometric calib"),
        ("SCLAMP", "NONE", "lamp status, NONE or name of lamp which is on"),
        ("LAMPSET", "0.0", "spectral cal lamp current value (milliamps)"),
        ("NRPTEXP", p.nrptexp, "number of repeat exposures in set: default 1"),
        ("SUBARRAY", p.subarray is not None, "data from a subarray (T) or full frame (F)"),
        ("DETECTOR", "CCD", "detector in use: NUV-MAMA, FUV-MAMA, or CCD"),
        ("OPT_ELEM", opt_elem, "optical element in use"),
        ("APERTURE", p.aperture_name, "aperture name"),
        ("PROPAPER", p.aperture_name, "proposed aperture name"),
        ("FILTER", "Long_Pass" if "LP" in p.aperture_name else "Clear", "filter in use"),
        ("APER_FOV", aper_fov, "aperture field of view"),
        ("CRSPLIT", p.crsplit, "number of cosmic ray split exposures"),
    ]
    if p.obstype == "SPECTROSCOPIC":
        cenwave = _DISPERSION[opt_elem][1]
        cards.append(("CENWAVE", cenwave, "central wavelength of spectrum"))
    cards += [
        ("CENTERA1", centre[0], "subarray axis1 center pt in unbinned dect. pix"),
        ("CENTERA2", centre[1], "subarray axis2 center pt in unbinned dect. pix"),
        ("SIZAXIS1", sizes[0], "subarray axis1 size in unbinned detector pixels"),
        ("SIZAXIS2", sizes[1], "subarray axis2 size in unbinned detector pixels"),
        ("BINAXIS1", p.binning[0], "axis1 data bin size in unbinned detector pixels"),
        ("BINAXIS2", p.binning[1], "axis2 data bin size in unbinned detector pixels"),
        (s, "/ CALIBRATION SWITCHES: PERFORM, OMIT, COMPLETE, SKIPPED", s),
    ]
    cards += [(sw, value, f"{sw.lower()} calibration switch") for sw, value in switches.items()]
    cards.append(("STATFLAG", True, "Calculate statistics?"))
    cards.append((s, "/ CALIBRATION REFERENCE FILES", s))
    refs = {k: f"oref${v[0]}" for k, v in ds.references.items()}
    for key in (
        "BPIXTAB DARKFILE PFLTFILE DFLTFILE LFLTFILE SHADFILE BIASFILE CCDTAB ATODTAB CRREJTAB "
        "IMPHTTAB TDSTAB APERTAB SPTRCTAB DISPTAB INANGTAB LAMPTAB APDESTAB SDCTAB XTRACTAB PCTAB "
        "WCPTAB IDCTAB MLINTAB TDCTAB GACTAB CDSTAB ECHSCTAB EXSTAB HALOTAB TELTAB RIPTAB SRWTAB"
    ).split():
        cards.append((key, refs.get(key, "N/A"), key.lower()))
    if p.obstype == "SPECTROSCOPIC":
        cards.append(("WAVECAL", "N/A", "wavecal file name"))
    cards += [
        (s, "/ CCD PARAMETERS", s),
        ("CCDAMP", p.amp, "CCD amplifier read out (A,B,C,D)"),
        ("CCDGAIN", p.gain, "commanded gain of CCD"),
        ("CCDOFFST", 3, "commanded CCD bias offset"),
        (s, "/ CALIBRATION KEYWORDS", s),
        ("CAL_VER", "", "CALSTIS code version"),
        ("PROCTIME", 0.0, "Pipeline processing time (MJD)"),
        (s, "/ CALIBRATED ENGINEERING PARAMETERS", s),
        ("ATODGAIN", 0.0, "calibrated CCD amplifier gain value"),
        ("READNSE", 0.0, "calibrated CCD read noise value"),
        (s, "/ PATTERN KEYWORDS", s),
        ("PATTERN1", "NONE", "primary pattern type"),
        ("P1_SHAPE", "", "primary pattern shape"),
        ("P1_PURPS", "", "primary pattern purpose"),
        ("P1_NPTS", 0, "number of points in primary pattern"),
        (s, "/ SYNTHETIC DATA SET", s),
        ("SYNTHETC", True, "synthetic data, not an HST observation"),
        ("SYN_VER", GENERATOR_VERSION, "synthetic data generator version"),
        ("SYN_CASE", p.name, "synthetic case name"),
        ("SYN_SEED", p.seed, "random seed of the synthetic case"),
    ]
    return cards


def _ext_cards(ds: SynthDataset, im: ImsetDraw, extname: str, extver: int) -> list:
    p, geo = ds.params, ds.geometry
    bunit = "UNITLESS" if extname == "DQ" else "COUNTS"
    cards = [
        ("EXTNAME", extname, "extension name"),
        ("EXTVER", extver, "extension version number"),
    ]
    tail = [
        ("LTV1", geo.ltv[0], "offset in X to subsection start"),
        ("LTV2", geo.ltv[1], "offset in Y to subsection start"),
        ("LTM1_1", geo.ltm[0], "reciprocal of sampling rate in X"),
        ("LTM2_2", geo.ltm[1], "reciprocal of sampling rate in Y"),
        ("ROOTNAME", ds.rootname, "rootname of the observation set"),
        ("EXPNAME", im.expname, "exposure identifier"),
    ]
    if extname != "SCI":
        cards.append(("BUNIT", bunit, "brightness units"))
    else:
        tail += [
            ("BUNIT", bunit, "brightness units"),
            (
                "ASN_MTYP",
                "EXP-CRJ" if p.crsplit > 1 else "EXP-RPT",
                "Role of the Member in the Association",
            ),
        ]
    cards += tail + _wcs_cards(p, geo)
    stats = [
        ("NGOODPIX", 0, "number of good pixels"),
        ("GOODMIN", 0.0, "minimum value of good pixels"),
        ("GOODMAX", 0.0, "maximum value of good pixels"),
        ("GOODMEAN", 0.0, "mean value of good pixels"),
        ("SNRMIN", 0.0, "minimum signal to noise of good pixels"),
        ("SNRMAX", 0.0, "maximum signal to noise of good pixels"),
        ("SNRMEAN", 0.0, "mean value of signal to noise of good pixels"),
    ]
    if extname == "SCI":
        date, time = _date_time(im.expstart)
        if p.obstype == "SPECTROSCOPIC":
            cards.append(("V_HELIO", 0.0, "heliocentric radial velocity (km/s)"))
        cards += [
            ("ORIENTAT", 42.1234, "position angle of image y axis (deg. e of n)"),
            ("DATE-OBS", date, "UT date of start of observation (yyyy-mm-dd)"),
            ("TIME-OBS", time, "UT time of start of observation (hh:mm:ss)"),
            ("EXPSTART", round(im.expstart, 8), "exposure start time (Modified Julian Date)"),
            ("EXPEND", round(im.expend, 8), "exposure end time (Modified Julian Date)"),
            ("EXPTIME", float(im.exptime_s), "exposure duration (seconds)--calculated"),
            ("EXPFLAG", "NORMAL", "Exposure interruption indicator"),
        ]
        if im.occdhtav is not None:
            cards.append(("OCCDHTAV", im.occdhtav, "average CCD housing temperature (deg C)"))
        cards += [
            ("NCOMBINE", 1, "number of image sets combined during CR rejection"),
            ("SDQFLAGS", 31743, "serious data quality flags"),
            ("MEANBLEV", 0.0, "mean of bias levels subtracted"),
            ("MEANDARK", 0.0, "mean of dark values subtracted"),
            *stats,
        ]
    elif extname == "ERR":
        cards += stats
    return cards


def _write_raw(ds: SynthDataset, path: Path) -> Path:
    from astropy.io import fits

    hdus = [fitsio.primary_hdu(_primary_cards(ds))]
    shape = (ds.geometry.ny, ds.geometry.nx)
    for k, im in enumerate(ds.imsets, start=1):
        sci = fits.ImageHDU(data=im.sci)  # uint16: BITPIX 16 with BZERO 32768
        for key, val, comment in _ext_cards(ds, im, "SCI", k):
            sci.header[key] = (val, comment)
        hdus.append(sci)
        hdus.append(fitsio.null_hdu(shape, 0.0, dtype="f4", cards=_ext_cards(ds, im, "ERR", k)))
        if im.dq is None:
            hdus.append(fitsio.null_hdu(shape, 0, dtype="i2", cards=_ext_cards(ds, im, "DQ", k)))
        else:
            hdus.append(fitsio.image_hdu(im.dq, _ext_cards(ds, im, "DQ", k)))
    return fitsio.write_hdus(hdus, path)


_CCDTAB_FORMATS = {
    "CCDAMP": "4A", "CCDGAIN": "J", "CCDOFFST": "J", "BINAXIS1": "J", "BINAXIS2": "J",
    "ATODGAIN": "E", "CCDBIAS": "E", "READNSE": "E", "SATURATE": "E", "BLEV_CLIP": "E",
    "PEDIGREE": "30A", "DESCRIP": "60A",
}  # fmt: skip
_CRREJ_FORMATS = {
    "CRSPLIT": "J", "MEANEXP": "E", "SCALENSE": "E", "INITGUES": "8A", "SKYSUB": "8A",
    "CRSIGMAS": "15A", "CRRADIUS": "E", "CRTHRESH": "E", "BADINPDQ": "I", "CRMASK": "J",
}  # fmt: skip
_BPIX_FORMATS = {
    "OPT_ELEM": "8A",
    "PIX1": "J",
    "PIX2": "J",
    "LENGTH": "J",
    "AXIS": "J",
    "VALUE": "I",
}


def _write_references(ds: SynthDataset, oref: Path) -> dict:
    p = ds.params
    _, _, opt_elem = APERTURES[p.aperture_name]
    common = dict(case=p.name, seed=p.seed)
    paths = {}
    for key, (filename, kind, payload) in ds.references.items():
        path = oref / filename
        if kind == "ccdtab":
            cards = fitsio.reference_primary_cards(
                filename,
                "CCD PARAMETERS TABLE",
                "Synthetic CCD parameters, all amps/gains/binnings",
                [],
                **common,
            )
            fitsio.write_table(path, cards, payload, _CCDTAB_FORMATS)
        elif kind == "crrejtab":
            cards = fitsio.reference_primary_cards(
                filename,
                "COSMIC RAY REJECTION TABLE",
                "Synthetic cosmic ray rejection parameters",
                [],
                **common,
            )
            fitsio.write_table(path, cards, payload, _CRREJ_FORMATS)
        elif kind == "atodtab":
            variant, ref_key, ref_value = payload
            cards = fitsio.reference_primary_cards(
                filename,
                "A TO D TABLE",
                f"Synthetic A-to-D correction ({variant})",
                [],
                **common,
            )
            photometry.write_atodtab(
                path,
                variant,
                amp=p.amp,
                gain=p.gain,
                ref_key=ref_key,
                ref_value=ref_value,
                rng=_rng(p.seed, "atodtab"),
                cards=cards,
            )
        elif kind in ("imphttab", "tdstab"):
            what = "IMPHTTAB" if kind == "imphttab" else "TDSTAB"
            cards = fitsio.reference_primary_cards(
                filename,
                "PHOTOMETRY TABLE" if kind == "imphttab" else "TEMPERATURE SENSITIVITY TABLE",
                f"Synthetic {what} ({payload})",
                [],
                **common,
            )
            rng = _rng(p.seed, what.lower())
            if kind == "imphttab":
                photometry.write_imphttab(
                    path,
                    payload,
                    aperture=p.aperture_name,
                    mjd=p.expstart_mjd,
                    rng=rng,
                    cards=cards,
                )
            else:
                photometry.write_tdstab(path, payload, opt_elem=opt_elem, rng=rng, cards=cards)
        elif kind == "bpixtab":
            cards = fitsio.reference_primary_cards(
                filename,
                "BAD PIXEL TABLE",
                "Synthetic bad pixel table for the STIS CCD",
                [],
                **common,
            )
            rows = [
                {"OPT_ELEM": r.opt_elem, "PIX1": r.pix1, "PIX2": r.pix2, "LENGTH": r.length,
                 "AXIS": r.axis, "VALUE": r.value}
                for r in payload
            ]  # fmt: skip
            fitsio.write_table(
                path,
                cards,
                rows,
                _BPIX_FORMATS,
                extra_cards=[
                    ("SIZAXIS1", 1024, "DQ array size, axis 1 (reference pixels)"),
                    ("SIZAXIS2", 1024, "DQ array size, axis 2 (reference pixels)"),
                ],
            )
        else:
            arrays, ltv, ltm = payload
            if kind == "bias":
                bx, by = p.binning
                extra = [
                    ("CCDAMP", p.amp, "CCD amplifier"),
                    ("CCDGAIN", p.gain, "commanded gain"),
                    ("CCDOFFST", 3, "commanded bias offset"),
                    ("BINAXIS1", bx, "axis 1 binning"),
                    ("BINAXIS2", by, "axis 2 binning"),
                    ("NCOMBINE", 60, "number of bias frames combined"),
                ]
                filetype, descrip, bunit = (
                    "BIAS",
                    f"Synthetic superbias, amp {p.amp} gain {p.gain} bin {bx}x{by}",
                    "COUNTS",
                )
            elif kind == "shad":
                extra = [("CCDAMP", "ANY", "CCD amplifier")]
                filetype, descrip, bunit = (
                    "SHUTTER SHADING",
                    f"Synthetic shutter shading, seconds ({p.shadcorr})",
                    "SECONDS",
                )
            elif kind == "dark":
                extra = [
                    ("CCDAMP", "ANY", "CCD amplifier"),
                    ("CCDGAIN", -1, "commanded gain (any)"),
                    ("REF_TEMP", REF_TEMP_C, "reference CCD housing temperature (deg C)"),
                    ("DRK_VS_T", DRK_VS_T, "fractional change of dark per deg C"),
                ]
                filetype, descrip, bunit = (
                    "DARK",
                    "Synthetic superdark, electrons per second",
                    "ELECTRONS/S",
                )
            else:
                filetype, descrip = {
                    "PFLTFILE": (
                        "PIXEL-TO-PIXEL FLAT",
                        f"Synthetic pixel-to-pixel flat, {opt_elem}",
                    ),
                    "DFLTFILE": ("DELTA FLAT", "Synthetic delta flat"),
                    "LFLTFILE": ("LOW ORDER FLAT", "Synthetic low-order flat, binned 4x4"),
                }[key]
                extra = [
                    ("OPT_ELEM", opt_elem, "optical element"),
                    ("OBSTYPE", p.obstype, "imaging or spectroscopic"),
                ]
                bunit = "UNITLESS"
            cards = fitsio.reference_primary_cards(filename, filetype, descrip, extra, **common)
            if kind == "shad" and p.shadcorr == "dummy":
                cards = [("PEDIGREE", "DUMMY", c[2]) if c[0] == "PEDIGREE" else c for c in cards]
            fitsio.write_reference_image(path, cards, arrays, ltv=ltv, ltm=ltm, bunit=bunit)
        paths[key] = path
    return paths


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_dataset(params: SynthParams, out_dir: Path, *, overwrite: bool = False) -> DatasetPaths:
    """
    Write a synthetic STIS CCD data set.

    Parameters
    ----------
    params : SynthParams
    out_dir : Path
        Folder to write ``<rootname>_raw.fits``, ``oref/`` and ``manifest.json`` into.
    overwrite : bool
        Replace files already there (otherwise an existing raw file is an error).

    Returns
    -------
    DatasetPaths

    Raises
    ------
    UsageError
        Invalid parameters, or the raw file exists and ``overwrite`` is False.
    """
    from stischeck.errors import UsageError

    ds = build_dataset(params)
    out_dir = Path(out_dir)
    raw = out_dir / f"{ds.rootname}_raw.fits"
    if raw.exists() and not overwrite:
        raise UsageError(f"synth: {raw}: already exists (give --overwrite, or another --out)")
    oref = out_dir / "oref"
    oref.mkdir(parents=True, exist_ok=True)
    references = _write_references(ds, oref)
    _write_raw(ds, raw)
    manifest = out_dir / "manifest.json"
    manifest.write_text(json.dumps(describe(ds, raw, references, out_dir), indent=1) + "\n")
    return DatasetPaths(out_dir, raw, oref, manifest, references)


def describe(ds: SynthDataset, raw: Path, references: dict, root: Path) -> dict:
    """The manifest: parameters, geometry, what each imset holds, the files."""
    from stischeck import __version__

    amp = amp_constants(ds.params.amp, ds.params.gain, ds.params.binning)
    return {
        "case": ds.params.name,
        "generator": {
            "name": "stischeck synth",
            "version": GENERATOR_VERSION,
            "stischeck": __version__,
        },
        "params": ds.params.to_dict(),
        "rootname": ds.rootname,
        "ccd": {
            "atodgain": amp.atodgain,
            "readnoise_e": amp.readnoise_e,
            "ccdbias_dn": amp.ccdbias_dn,
            "saturate_dn": amp.saturate_dn,
        },
        "geometry": ds.geometry.describe(),
        "scene": ds.scene,
        "raw": {
            "file": raw.name,
            "nimsets": len(ds.imsets),
            "imsets": [
                {
                    "extver": k,
                    "expname": im.expname,
                    "exptime": im.exptime_s,
                    "expstart": round(im.expstart, 8),
                    "expend": round(im.expend, 8),
                    "occdhtav": im.occdhtav,
                    "cosmic_ray_events": im.n_cosmic_rays,
                    "cosmic_ray_pixels": int(im.cr_hit.sum()),
                    "saturated_pixels": im.saturated_raw,
                    "datalost_pixels": 0 if im.dq is None else int(np.count_nonzero(im.dq & 2)),
                    "dn_range": [int(im.sci.min()), int(im.sci.max())],
                }
                for k, im in enumerate(ds.imsets, start=1)
            ],
            "sha256": _sha256(raw),
        },
        "switches_perform": [*PERFORM, *(["EXPSCORR"] if ds.params.expscorr else [])],
        "reference_files": {k: str(v.relative_to(root)) for k, v in references.items()},
    }
