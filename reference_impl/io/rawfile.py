"""Read a STIS CCD ``_raw.fits`` into imsets plus the header values the steps need.

calstis reads the switches and reference-file names from the primary header
(spec §1.2) and per-imset values (EXPTIME, SDQFLAGS, LTV/LTM, CD matrix,
OCCDHTAV, NCOMBINE) from each SCI extension header (spec §1.8).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reference_impl.errors import RawInputError
from reference_impl.geometry import Placement, placement_from_lt
from reference_impl.imset import Imset
from reference_impl.io.fitsutil import FitsReader, StoredImage
from reference_impl.io.spool import SpooledImset
from reference_impl.numerics import is_constant

__all__ = [
    "SWITCHES",
    "exposure_from_parts",
    "REFERENCE_KEYWORDS",
    "ExposureInfo",
    "ImsetInfo",
    "RawImset",
    "StoredSci",
    "RawExposure",
    "read_raw",
    "switch_value",
]

#: Calibration switches calstis reads from the primary header (getflags.c).
SWITCHES = (
    "DQICORR",
    "ATODCORR",
    "BLEVCORR",
    "BIASCORR",
    "CRCORR",
    "RPTCORR",
    "EXPSCORR",
    "DARKCORR",
    "FLATCORR",
    "SHADCORR",
    "PHOTCORR",
    "LORSCORR",
    "GLINCORR",
    "LFLGCORR",
    "DOPPCORR",
    "CTECORR",
    "WAVECORR",
    "X1DCORR",
    "X2DCORR",
)
_VALID_SWITCH_VALUES = ("PERFORM", "OMIT", "COMPLETE", "SKIPPED")

#: Primary-header keywords naming the reference files of the 2-D CCD steps.
REFERENCE_KEYWORDS = (
    "CCDTAB",
    "BPIXTAB",
    "BIASFILE",
    "DARKFILE",
    "PFLTFILE",
    "DFLTFILE",
    "LFLTFILE",
    "CRREJTAB",
    "ATODTAB",
    "SHADFILE",
    "IMPHTTAB",
    "TDSTAB",
    "APERTAB",
)


def switch_value(header, keyword: str, path: Path) -> str:
    """Return a switch keyword's value upper-cased; a missing keyword is OMIT (getswitch.c)."""
    if keyword not in header:
        return "OMIT"
    value = str(header[keyword]).strip().upper()
    if value not in _VALID_SWITCH_VALUES:
        raise RawInputError(
            f"{path.name}: {keyword} = '{header[keyword]}' is not one of "
            "PERFORM, OMIT, COMPLETE, SKIPPED"
        )
    return value


@dataclass(frozen=True)
class ExposureInfo:
    """Primary-header values of a raw exposure that drive the reduction.

    Attributes
    ----------
    rootname : str
        ``ROOTNAME`` (lower case).
    obstype : str
        ``IMAGING`` or ``SPECTROSCOPIC``.
    obsmode : str
        ``OBSMODE`` (``ACCUM``, ``ACQ``, ``ACQ/PEAK``, ...), upper-cased; blank if absent.
    ccdamp : str
        Readout amplifier, A-D.
    ccdgain, ccdoffst, binaxis1, binaxis2 : int
        CCDTAB selection values (defaults 1 when absent, getkeyinfo1.c).
    opt_elem, aperture, aper_fov, targname : str
        Optical element, aperture name, aperture field of view, target name.
    cenwave : int or None
        ``CENWAVE`` for spectroscopic data.
    texptime_s : float
        ``TEXPTIME`` (seconds); calstis does nothing when it is <= 0.
    switches : dict
        Switch name -> PERFORM/OMIT/COMPLETE/SKIPPED, as in the header.
    statflag : bool
        ``STATFLAG`` (missing means True).
    references : dict
        Reference keyword -> the header's value (e.g. ``oref$x_bia.fits``).
    n_imsets : int
        ``NEXTEND // 3`` (1 if absent), as cs0 counts them.
    dispaxis : int
        Dispersion axis for spectroscopic plate scales (default 1).
    """

    rootname: str
    obstype: str
    ccdamp: str
    ccdgain: int
    ccdoffst: int
    binaxis1: int
    binaxis2: int
    opt_elem: str
    aperture: str
    aper_fov: str
    targname: str
    cenwave: int | None
    texptime_s: float
    switches: dict[str, str]
    statflag: bool
    references: dict[str, str]
    n_imsets: int
    dispaxis: int
    obsmode: str = ""

    @property
    def is_imaging(self) -> bool:
        """True for OBSTYPE = IMAGING."""
        return self.obstype == "IMAGING"

    @property
    def is_bias_or_dark(self) -> bool:
        """True when TARGNAME is BIAS or DARK (no aperture flags, spec §4.2)."""
        return self.targname in ("BIAS", "DARK")

    def performs(self, switch: str) -> bool:
        """True when the header sets ``switch`` to PERFORM (cs0 maps everything else to OMIT)."""
        return self.switches.get(switch, "OMIT") == "PERFORM"


@dataclass(frozen=True)
class ImsetInfo:
    """SCI-extension values of one imset (getgrpinfo1.c).

    Attributes
    ----------
    extver : int
        Imset number, 1-based.
    exptime_s : float
        ``EXPTIME``, seconds.
    expstart_mjd, expend_mjd : float
        ``EXPSTART``, ``EXPEND``.
    sdqflags : int
        ``SDQFLAGS`` (default 32767).
    ltv, ltm : tuple of float
        ``(LTV1, LTV2)`` and ``(LTM1_1, LTM2_2)``.
    placement : Placement
        Binning and corner derived from LTV/LTM.
    cd : tuple of float
        ``(CD1_1, CD1_2, CD2_1, CD2_2)`` in degrees per pixel.
    occdhtav_c : float or None
        ``OCCDHTAV`` (degrees C), None when absent.
    ncombine : int
        ``NCOMBINE`` (default 1; below 1 reset to 1).
    """

    extver: int
    exptime_s: float
    expstart_mjd: float
    expend_mjd: float
    sdqflags: int
    ltv: tuple[float, float]
    ltm: tuple[float, float]
    placement: Placement
    cd: tuple[float, float, float, float]
    occdhtav_c: float | None
    ncombine: int

    @property
    def ltv0(self) -> tuple[float, float]:
        """Zero-indexed offsets ``LTV + LTM - 1`` (getlt0.c)."""
        return (self.ltv[0] + self.ltm[0] - 1.0, self.ltv[1] + self.ltm[1] - 1.0)


class RawImset:
    """
    One raw imset: arrays, its SCI-header values and its three headers.

    Parameters
    ----------
    imset : Imset, StoredSci or SpooledImset
        The arrays; or, for a file read from disk, the SCI as stored (16-bit
        integers) with ERR and DQ, converted to float32 on each access of
        `imset` (exact, and half the memory while the exposure is held); or
        the arrays in a spool file (the part-a imsets of a large CR-SPLIT),
        read back on each access.
    info : ImsetInfo
        Its SCI-header values.
    headers : dict
        ``"SCI"``, ``"ERR"``, ``"DQ"`` -> astropy Header.
    """

    def __init__(self, imset, info: "ImsetInfo", headers: dict | None = None):
        self._imset = imset
        self.info = info
        self.headers = {} if headers is None else headers

    @property
    def imset(self) -> Imset:
        """SCI (float32 DN), ERR (float32), DQ (int16); None once the pipeline let it go.

        Kept as stored (`StoredSci`) or spooled (`reference_impl.io.spool.
        SpooledImset`), the arrays are made anew on each access.
        """
        if isinstance(self._imset, (StoredSci, SpooledImset)):
            return self._imset.load()
        return self._imset

    def sci_and_dq_by_rows(self) -> tuple:
        """SCI and DQ as objects giving blocks of rows (``[r0:r1]``) and ``shape``.

        The spooled images when the imset is spooled (nothing is loaded
        whole), else the arrays.
        """
        if isinstance(self._imset, SpooledImset):
            return self._imset.sci, self._imset.dq
        imset = self.imset
        return imset.sci, imset.dq

    @imset.setter
    def imset(self, value) -> None:
        self._imset = value

    def with_dq(self, dq):
        """The imset with ``dq`` in place of its DQ (None: its own), spooled parts left spooled."""
        if isinstance(self._imset, SpooledImset):
            return SpooledImset(
                self._imset.sci, self._imset.err, self._imset.dq if dq is None else dq
            )
        imset = self.imset
        return Imset(imset.sci, imset.err, imset.dq if dq is None else dq)

    def sci_is_constant(self) -> bool:
        """True when every SCI value is the same (checked on the stored values if kept)."""
        if isinstance(self._imset, StoredSci):
            return self._imset.sci.is_constant()
        return is_constant(self.imset.sci)


@dataclass(frozen=True)
class StoredSci:
    """A raw imset kept as read: SCI as stored in the file, ERR and DQ as arrays."""

    sci: StoredImage
    err: np.ndarray
    dq: np.ndarray

    def load(self) -> Imset:
        """The imset with SCI converted to float32 (a new array each time)."""
        return Imset(self.sci.array(np.float32), self.err, self.dq)


@dataclass
class RawExposure:
    """A raw exposure read into memory."""

    path: Path
    primary_header: object
    info: ExposureInfo
    imsets: list[RawImset]


def _int_key(header, key: str, default: int) -> int:
    value = header.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _imset_info(sci_header, extver: int, path: Path) -> ImsetInfo:
    if "EXPTIME" not in sci_header:
        raise RawInputError(f"{path.name}: [SCI,{extver}] has no EXPTIME keyword")
    exptime = float(sci_header["EXPTIME"])
    if exptime < 0:
        raise RawInputError(f"{path.name}: [SCI,{extver}] EXPTIME = {exptime} is negative")
    ltv = (float(sci_header.get("LTV1", 0.0)), float(sci_header.get("LTV2", 0.0)))
    ltm = (float(sci_header.get("LTM1_1", 1.0)), float(sci_header.get("LTM2_2", 1.0)))
    if ltm[0] <= 0 or ltm[1] <= 0:
        raise RawInputError(f"{path.name}: [SCI,{extver}] LTM1_1/LTM2_2 must be positive")
    occ = sci_header.get("OCCDHTAV")
    ncombine = max(_int_key(sci_header, "NCOMBINE", 1), 1)
    return ImsetInfo(
        extver=extver,
        exptime_s=exptime,
        expstart_mjd=float(sci_header.get("EXPSTART", 0.0)),
        expend_mjd=float(sci_header.get("EXPEND", 0.0)),
        sdqflags=_int_key(sci_header, "SDQFLAGS", 32767),
        ltv=ltv,
        ltm=ltm,
        placement=placement_from_lt(ltv[0], ltv[1], ltm[0], ltm[1]),
        cd=tuple(float(sci_header.get(k, 0.0)) for k in ("CD1_1", "CD1_2", "CD2_1", "CD2_2")),
        occdhtav_c=None if occ is None else float(occ),
        ncombine=ncombine,
    )


def read_raw(path: Path) -> RawExposure:
    """
    Read a STIS CCD raw file (or any calstis 2-D input with SCI/ERR/DQ imsets).

    Parameters
    ----------
    path : Path
        ``*_raw.fits`` or ``*_raw.fits.gz``; never modified.

    Returns
    -------
    RawExposure
        SCI as float32 DN (uint16 converts exactly), ERR float32, DQ int16
        with null extensions expanded; headers kept for writing products.

    Raises
    ------
    RawInputError
        For a missing, unreadable or non-FITS file, or a FITS file that is not
        a STIS CCD exposure, with a one-line message naming the file.
    """
    path = Path(path)
    with FitsReader(path, what="raw file") as reader:
        # Headers are used as parsed (never modified: products copy them).
        primary = reader.primary_header
        n_imsets = _int_key(primary, "NEXTEND", 3) // 3 or 1
        dtypes = {"SCI": np.float32, "ERR": np.float32, "DQ": np.int16}
        found: dict = {}
        for hdu in reader:
            extname, extver = hdu.key
            if extname in dtypes and 1 <= extver <= n_imsets and hdu.key not in found:
                # The first HDU with this (EXTNAME, EXTVER) counts, as in hstio.
                # SCI stays as stored (uint16 for raw data) until a step needs it.
                array = hdu.stored() if extname == "SCI" else hdu.image(dtypes[extname])
                found[hdu.key] = (array, hdu.header)
    # Checked after reading to the end, so that a damaged file is reported as such.
    instrument = str(primary.get("INSTRUME", "")).strip()
    detector = str(primary.get("DETECTOR", "")).strip()
    if instrument != "STIS":
        raise RawInputError(
            f"{path.name}: not a STIS exposure (INSTRUME = '{instrument or 'missing'}')"
        )
    if detector != "CCD":
        raise RawInputError(
            f"{path.name}: not a STIS CCD exposure (DETECTOR = '{detector or 'missing'}')"
        )
    parts = []
    for extver in range(1, n_imsets + 1):
        keys = [(e, extver) for e in ("SCI", "ERR", "DQ")]
        if any(k not in found for k in keys):
            raise RawInputError(
                f"{path.name}: imset {extver} lacks SCI, ERR or DQ "
                f"(NEXTEND = {primary.get('NEXTEND')})"
            )
        (sci, sci_h), (err, err_h), (dq, dq_h) = (found[k] for k in keys)
        if len(sci.shape) != 2 or 0 in sci.shape:
            raise RawInputError(f"{path.name}: [SCI,{extver}] is not a 2-D image")
        if err.shape != sci.shape or dq.shape != sci.shape:
            raise RawInputError(f"{path.name}: imset {extver} SCI, ERR and DQ differ in shape")
        parts.append((StoredSci(sci, err, dq), {"SCI": sci_h, "ERR": err_h, "DQ": dq_h}))
    return exposure_from_parts(path, primary, parts)


def exposure_from_parts(path: Path, primary, parts: list) -> RawExposure:
    """
    Build a RawExposure from a primary header and ``(Imset, headers)`` pairs.

    Used for files read from disk and for intermediate products (calstis's
    ``_blv_tmp`` and ``_crj_tmp``), whose header values are re-read exactly as
    calstis re-reads them (8 significant digits, spec §14).
    """
    imsets = [
        RawImset(imset, _imset_info(headers["SCI"], k, path), headers)
        for k, (imset, headers) in enumerate(parts, start=1)
    ]
    n_imsets = len(imsets)
    switches = {sw: switch_value(primary, sw, path) for sw in SWITCHES}
    statflag = primary.get("STATFLAG", True)
    references = {k: str(primary.get(k, "")).strip() for k in REFERENCE_KEYWORDS}
    cenwave = primary.get("CENWAVE")
    dispaxis = imsets[0].headers["SCI"].get("DISPAXIS", primary.get("DISPAXIS", 1))
    info = ExposureInfo(
        rootname=str(primary.get("ROOTNAME", path.name.split("_")[0])).strip().lower(),
        obstype=str(primary.get("OBSTYPE", "")).strip().upper(),
        ccdamp=str(primary.get("CCDAMP", "")).strip()[:1].upper(),
        ccdgain=_int_key(primary, "CCDGAIN", 1),
        ccdoffst=_int_key(primary, "CCDOFFST", 1),
        binaxis1=_int_key(primary, "BINAXIS1", 1),
        binaxis2=_int_key(primary, "BINAXIS2", 1),
        opt_elem=str(primary.get("OPT_ELEM", "")).strip(),
        aperture=str(primary.get("APERTURE", "")).strip(),
        aper_fov=str(primary.get("APER_FOV", "")).strip(),
        targname=str(primary.get("TARGNAME", "")).strip().upper(),
        cenwave=None if cenwave is None else int(cenwave),
        texptime_s=float(primary.get("TEXPTIME", 0.0)),
        switches=switches,
        statflag=bool(statflag),
        references=references,
        n_imsets=n_imsets,
        dispaxis=int(dispaxis),
        obsmode=str(primary.get("OBSMODE", "")).strip().upper(),
    )
    if info.ccdamp not in ("A", "B", "C", "D"):
        raise RawInputError(f"{path.name}: CCDAMP = '{primary.get('CCDAMP')}' is not A-D")
    return RawExposure(path=path, primary_header=primary, info=info, imsets=imsets)
