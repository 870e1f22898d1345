"""The parameters of one synthetic STIS CCD data set, and the rules they must obey.

Every number the generator uses comes from `SynthParams`; the same parameters
and seed give the same files, byte for byte (``np.random.default_rng``).
"""

import dataclasses
import hashlib
from dataclasses import dataclass

from stischeck.errors import UsageError

__all__ = [
    "APERTURES",
    "SIDE2_MJD",
    "SynthParams",
    "default_rootname",
    "validate",
]

#: MJD from which STIS runs on its side-2 electronics: calstis scales the dark with
#: OCCDHTAV only for EXPSTART at or after this date (hstcal stistemperature.h).
SIDE2_MJD = 52091.0

#: Aperture -> (APER_FOV "height x width" in arcsec, OBSTYPE it is used with, OPT_ELEM).
APERTURES = {
    "50CCD": ("50x50", "IMAGING", "MIRVIS"),
    "F28X50LP": ("28x50", "IMAGING", "MIRVIS"),
    "F28X50OII": ("28x50", "IMAGING", "MIRVIS"),
    "52X2": ("52x2", "SPECTROSCOPIC", "G430L"),
    "52X0.2": ("52x0.2", "SPECTROSCOPIC", "G430L"),
    "6X6": ("6x6", "SPECTROSCOPIC", "G750L"),
}

_GAINS = (1, 4)
_BINS = (1, 2, 4)


@dataclass(frozen=True)
class SynthParams:
    """
    Everything that defines one synthetic STIS CCD data set.

    Counts of sources and defects are for the whole 1024 x 1024 detector; a
    subarray receives the share that falls on its rows (saturated stars are
    always placed on the rows read out).

    Attributes
    ----------
    seed : int
        Seed of every random draw (``np.random.default_rng``), >= 0.
    rootname : str or None
        9-character STIS rootname; None derives one from the seed.
    obstype : str
        ``IMAGING`` or ``SPECTROSCOPIC``.
    aperture : str or None
        A key of `APERTURES`; None: 50CCD for imaging, 52X2 for spectroscopy.
    amp : str
        Readout amplifier, ``A``-``D``.
    gain : int
        Commanded gain ``CCDGAIN``, 1 or 4 (electrons per DN, nominal).
    binning : tuple of int
        ``(BINAXIS1, BINAXIS2)``, each 1, 2 or 4. Binned readouts are full frame.
    subarray : tuple of int or None
        ``(first_row, n_rows)``: detector rows ``first_row`` .. ``first_row +
        n_rows - 1`` (1-based, unbinned) read as a 1060-column subarray; None for
        a full-frame readout (1062 x 1044 unbinned).
    crsplit : int
        ``CRSPLIT``, the number of cosmic-ray split exposures (1-8).
    nrptexp : int
        ``NRPTEXP``, repeats; the file has ``crsplit * nrptexp`` imsets.
    exptime_s : float
        Total exposure time ``TEXPTIME`` in seconds, shared equally by the imsets.
    expstart_mjd : float
        ``EXPSTART`` of the first imset (MJD); before `SIDE2_MJD` is side 1.
    occdhtav_c : float or None
        Mean CCD housing temperature (deg C) written as ``OCCDHTAV`` in each SCI
        header (with a small per-imset scatter); None leaves the keyword out.
    cr_rate : float
        Cosmic-ray events per second per cm^2 (HST in orbit: about 1.2).
    sky_e_per_s : float
        Sky background, electrons per second per unbinned pixel.
    n_stars : int
        Unsaturated point sources (imaging) per full frame.
    star_flux : tuple of float
        Range of total star count rates, electrons per second (log-uniform).
    n_saturated : int
        Stars bright enough to exceed the full well and bleed along columns.
    trace_e_per_s : float
        Spectroscopy: continuum of the spectral trace, electrons per second per column.
    trace_row : float
        Spectroscopy: detector row (0-based, unbinned) of the trace centre.
    dark_e_per_s : float
        Dark current of a normal pixel, electrons per second (at REF_TEMP).
    n_hot_pixels : int
        Hot pixels known to the dark reference (DQ HOTPIX in the dark).
    n_new_hot_pixels : int
        Hot pixels in the data that the dark reference does not know.
    n_hot_columns, n_bad_columns : int
        Columns with extra dark current; columns of low response listed in BPIXTAB.
    n_bad_pixels, n_blemishes : int
        Single bad pixels and small blemishes (BPIXTAB rows).
    n_dust_motes : int
        Ring-shaped dust shadows in the low-order flat (and the data).
    n_flat_zero : int
        Pixel-to-pixel flat pixels set to exactly 0 (calstis flags them CALIBDEFECT).
    flat_rms : float
        Pixel-to-pixel flat rms (fraction).
    bias_row_drift_dn : float
        Change of the overscan bias level from first to last row, DN.
    bias_col_drift_dn : float
        Change of the bias level along a row (the BLEVCORR drift), DN.
    bias_ripple_dn : float
        Amplitude of a sinusoidal bias ripple along the rows, DN.
    bias_pattern_dn : float
        rms of the fixed 2-D bias pattern that the superbias removes, DN.
    dropouts : int
        Telemetry drop-outs: runs of 64 raw pixels with SCI = 0, DQ = DATALOST.
    expscorr : bool
        Set ``EXPSCORR = 'PERFORM'`` (calibrate each imset to a ``_flt`` too).
    skysub : str
        ``SKYSUB`` of every CRREJTAB row: ``mode`` or ``none``.
    photcorr : bool
        Set ``PHOTCORR = 'PERFORM'`` and write an IMPHTTAB (and a TDSTAB).
    imphttab : str
        The IMPHTTAB variant (a key of `stischeck.synth.photometry.IMPHTTAB_KINDS`).
    tdstab : str
        The TDSTAB variant (a key of `stischeck.synth.photometry.TDSTAB_KINDS`).
    atodcorr : str or None
        None, or an ATODTAB variant (`stischeck.synth.photometry.ATODTAB_KINDS`):
        ``ATODCORR = 'PERFORM'`` and an ATODTAB.
    shadcorr : str or None
        None, or a SHADFILE variant (`stischeck.synth.photometry.SHADFILE_KINDS`):
        ``SHADCORR = 'PERFORM'`` and a SHADFILE.
    """

    seed: int = 1
    rootname: str | None = None
    obstype: str = "IMAGING"
    aperture: str | None = None
    amp: str = "D"
    gain: int = 1
    binning: tuple[int, int] = (1, 1)
    subarray: tuple[int, int] | None = (497, 32)
    crsplit: int = 2
    nrptexp: int = 1
    exptime_s: float = 600.0
    expstart_mjd: float = 58500.25
    occdhtav_c: float | None = 19.0
    cr_rate: float = 1.2
    sky_e_per_s: float = 0.15
    n_stars: int = 80
    star_flux: tuple[float, float] = (20.0, 20000.0)
    n_saturated: int = 1
    trace_e_per_s: float = 400.0
    trace_row: float = 511.5
    dark_e_per_s: float = 0.01
    n_hot_pixels: int = 400
    n_new_hot_pixels: int = 20
    n_hot_columns: int = 2
    n_bad_columns: int = 4
    n_bad_pixels: int = 40
    n_blemishes: int = 4
    n_dust_motes: int = 6
    n_flat_zero: int = 0
    flat_rms: float = 0.01
    bias_row_drift_dn: float = 3.0
    bias_col_drift_dn: float = 1.5
    bias_ripple_dn: float = 0.4
    bias_pattern_dn: float = 0.35
    dropouts: int = 0
    expscorr: bool = False
    skysub: str = "mode"
    photcorr: bool = False
    imphttab: str = "mjd"
    tdstab: str = "temp"
    atodcorr: str | None = None
    shadcorr: str | None = None

    @property
    def n_imsets(self) -> int:
        """Imsets in the raw file, ``crsplit * nrptexp``."""
        return self.crsplit * self.nrptexp

    @property
    def aperture_name(self) -> str:
        """The aperture, with the obstype's default filled in."""
        if self.aperture is not None:
            return self.aperture
        return "50CCD" if self.obstype == "IMAGING" else "52X2"

    @property
    def is_side2(self) -> bool:
        """True when calstis would apply the dark temperature factor (EXPSTART >= 52091)."""
        return self.expstart_mjd >= SIDE2_MJD

    @property
    def name(self) -> str:
        """A short case name: ``img_ampD_g1_sub1060x32_cr2`` style."""
        kind = "img" if self.obstype == "IMAGING" else "spec"
        bx, by = self.binning
        if self.subarray is not None:
            size = f"sub1060x{self.subarray[1]}"
        elif (bx, by) == (1, 1):
            size = "full"
        else:
            size = f"bin{bx}x{by}"
        return f"{kind}_amp{self.amp}_g{self.gain}_{size}_cr{self.n_imsets}_s{self.seed}"

    def to_dict(self) -> dict:
        """Plain-data form (for ``manifest.json``), with the derived rootname filled in."""
        d = dataclasses.asdict(self)
        d["rootname"] = self.rootname or default_rootname(self.seed)
        d["aperture"] = self.aperture_name
        d["n_imsets"] = self.n_imsets
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SynthParams":
        """Inverse of `to_dict` (unknown keys ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for key in ("binning", "subarray", "star_flux"):
            if kw.get(key) is not None:
                kw[key] = tuple(kw[key])
        return cls(**kw)


def default_rootname(seed: int) -> str:
    """A 9-character STIS-like rootname (``o`` + 5 base-36 characters + ``010``) from a seed."""
    digest = hashlib.sha256(f"stischeck-synth-{seed}".encode()).digest()
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    body = "".join(alphabet[b % 36] for b in digest[:5])
    return f"o{body}010"


def validate(p: SynthParams) -> SynthParams:
    """
    Check the parameters against what STIS and calstis allow.

    Returns
    -------
    SynthParams
        ``p`` itself, unchanged.

    Raises
    ------
    UsageError
        One line naming the parameter and the rule.
    """

    def fail(msg: str):
        raise UsageError(f"synth: {msg}")

    if not isinstance(p.seed, int) or p.seed < 0:
        fail(f"seed must be a non-negative integer (got {p.seed!r})")
    if p.rootname is not None and (len(p.rootname) != 9 or not p.rootname.isalnum()):
        fail(f"rootname must be 9 letters or digits (got {p.rootname!r})")
    if p.obstype not in ("IMAGING", "SPECTROSCOPIC"):
        fail(f"obstype must be IMAGING or SPECTROSCOPIC (got {p.obstype!r})")
    if p.aperture_name not in APERTURES:
        fail(f"aperture {p.aperture_name!r} is not one of {', '.join(APERTURES)}")
    if APERTURES[p.aperture_name][1] != p.obstype:
        fail(f"aperture {p.aperture_name} is not used for {p.obstype} (choose another)")
    if p.amp not in ("A", "B", "C", "D"):
        fail(f"amp must be one of A, B, C, D (got {p.amp!r})")
    if p.gain not in _GAINS:
        fail(f"gain must be 1 or 4 (got {p.gain!r})")
    if len(p.binning) != 2 or any(b not in _BINS for b in p.binning):
        fail(f"binning must be 1, 2 or 4 on each axis (got {p.binning!r})")
    if p.subarray is not None:
        if tuple(p.binning) != (1, 1):
            fail("binned readouts are full frame: give no subarray rows with binning")
        first, n = p.subarray
        if n < 4 or first < 1 or first + n - 1 > 1024:
            fail(
                f"subarray rows {first}..{first + n - 1} must lie within detector rows "
                "1..1024, at least 4 rows"
            )
        if n >= 1024:
            fail("a subarray of 1024 rows or more is a full frame: use the full frame")
    if not 1 <= p.crsplit <= 8:
        fail(f"crsplit must be 1..8 (got {p.crsplit})")
    if not 1 <= p.nrptexp <= 8:
        fail(f"nrptexp must be 1..8 (got {p.nrptexp})")
    if not p.exptime_s > 0:
        fail(f"exposure time must be positive (got {p.exptime_s} s)")
    if not 48000.0 <= p.expstart_mjd <= 70000.0:
        fail(f"expstart MJD {p.expstart_mjd} is outside the STIS era (48000..70000)")
    if p.occdhtav_c is not None and not 0.0 < p.occdhtav_c < 40.0:
        fail(f"occdhtav must be between 0 and 40 deg C (got {p.occdhtav_c})")
    for key in ("cr_rate", "sky_e_per_s", "trace_e_per_s", "dark_e_per_s", "flat_rms"):
        if getattr(p, key) < 0:
            fail(f"{key} must not be negative (got {getattr(p, key)})")
    if p.flat_rms > 0.2:
        fail(f"flat_rms must be at most 0.2 (got {p.flat_rms})")
    counts = (
        "n_stars n_saturated n_hot_pixels n_new_hot_pixels n_hot_columns n_bad_columns "
        "n_bad_pixels n_blemishes n_dust_motes n_flat_zero dropouts"
    ).split()
    for key in counts:
        value = getattr(p, key)
        if not isinstance(value, int) or value < 0 or value > 100_000:
            fail(f"{key} must be an integer 0..100000 (got {value!r})")
    lo, hi = p.star_flux
    if not 0 < lo <= hi:
        fail(f"star flux range must be 0 < low <= high (got {lo}, {hi})")
    if not 0.0 <= p.trace_row <= 1023.0:
        fail(f"trace row must be within 0..1023 (got {p.trace_row})")
    if p.skysub not in ("mode", "none"):
        fail(f"skysub must be mode or none (got {p.skysub!r})")
    from stischeck.synth.photometry import (
        ATODTAB_KINDS,
        IMPHTTAB_KINDS,
        SHADFILE_KINDS,
        TDSTAB_KINDS,
    )

    if p.atodcorr is not None and p.atodcorr not in ATODTAB_KINDS:
        fail(f"atodcorr must be one of {', '.join(ATODTAB_KINDS)} (got {p.atodcorr!r})")
    if p.shadcorr is not None and p.shadcorr not in SHADFILE_KINDS:
        fail(f"shadcorr must be one of {', '.join(SHADFILE_KINDS)} (got {p.shadcorr!r})")

    if p.imphttab not in IMPHTTAB_KINDS:
        fail(f"imphttab must be one of {', '.join(IMPHTTAB_KINDS)} (got {p.imphttab!r})")
    if p.tdstab not in TDSTAB_KINDS:
        fail(f"tdstab must be one of {', '.join(TDSTAB_KINDS)} (got {p.tdstab!r})")
    return p
