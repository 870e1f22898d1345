"""PHOTCORR: the photometry keywords of an imaging product (hstcal ``cs1/dophot.c``).

The spec (``docs/calstis-ccd-2d.md``) does not cover this step; the facts here
were read from hstcal 5c1c1775 and checked against cs0.e 3.5.0
(tests/differential/test_cs1_rest_vs_live_calstis.py).

What calstis does, in order
---------------------------
* ``cs1/photmode.c``: on the first good imset of every calstis1 run, whatever
  PHOTCORR says, PHOTMODE is rebuilt as ``STIS <APERTURE> A2D<CCDGAIN>
  <MIRROR|OPT_ELEM> CCD [<CENWAVE>] MJD#<EXPSTART %0.4f>`` (``MIRROR`` for any
  OPT_ELEM starting with ``MIR``; CENWAVE only for OBSTYPE SPECTROSCOPIC and
  CENWAVE > 0): `photmode_string`.
* ``cs1/getflags1.c`` (checkPhot): PHOTCORR = PERFORM becomes OMIT unless
  OBSTYPE is IMAGING (so a spectroscopic product keeps ``PHOTCORR = 'PERFORM'``
  and gets no photometry keywords); the IMPHTTAB's header PEDIGREE DUMMY makes
  it DUMMY (switch SKIPPED, no keywords); the TDSTAB is optional (N/A: no
  temperature factor), its header PEDIGREE DUMMY turns the factor off.
* ``cs1/dophot.c`` (doPhot): "A2D<gain>" is removed from PHOTMODE
  (`remove_a2d`), blanks become commas and letters lower case (`phot_to_obs`);
  the IMPHTTAB gives PHOTFLAM, PHOTPLAM, PHOTBW (`imphttab_value`, below) and
  PHOTZPT (a primary-header keyword). A look-up that fails in any way (no
  matching row, a missing column) sets the switch SKIPPED and writes no
  photometry keyword. If PHOTFLAM, PHOTPLAM and PHOTBW are all below -9990
  (the -9999 of a parameter outside the table) the switch is SKIPPED but the
  keywords are written. Otherwise PHOTFLAM is multiplied by the CCDTAB
  ATODGAIN (float32, in double arithmetic) when PHOTMODE had an A2D part, and
  divided by the temperature factor (`temperature_factor`). Keywords go to the
  primary header with ``Put_KeyF``: each value is rounded to float32 and
  written ``%#14.7E``.
* ``lib/getphttab.c`` (GetPhotTab): the primary header gives PARNUM
  (required), PHOTZPT (required), NEXTEND (the extensions read: PHOTFLAM,
  PHOTPLAM, PHOTBW, then PHTFLAM1, PHTFLAM2) and EXTRAP (default F). A row
  matches when its OBSMODE has the length of the observation's obsmode and
  each of its comma-separated parts occurs in it (`obsmodes_match`); the
  first matching row is used; a row's own PEDIGREE DUMMY is only a warning.
  DATACOL names the result column: ``PHOTFLAM`` (a scalar) or ``PHOTFLAM<n>``
  (n parameters: NELEMk values in PARkVALUES, names in PARkNAMES, a result
  array in column-major order) and the value is interpolated linearly in each
  parameter in turn (`interpolate_parameterised`).
* ``cs1/gettds1.c``, ``dophot.c`` tempFactor: the TDSTAB row whose OPT_ELEM
  equals the observation's (the last such row) gives WAVELENGTH, TEMPSENS
  (NWL of each) and REFTEMP; the factor is ``1 + s * (T - REFTEMP)`` with
  ``s`` interpolated at PHOTPLAM (``lib/interp1d.c``), T the imset's OCCDHTAV
  (``lib/getdettemp.c``: -1, so factor 1, before side 2 or without the
  keyword; any T < 0 gives 1). A matching row with PEDIGREE DUMMY, or no
  matching row, stops calstis with an error.
"""

import math
import re
from dataclasses import dataclass

import numpy as np

from reference_impl.errors import NotImplementedStepError
from reference_impl.types import PhotRow, PhotTable, TdsRow

__all__ = [
    "IGNORED_BELOW",
    "PhotRow",
    "PhotTable",
    "Photometry",
    "TdsRow",
    "compute_photometry",
    "imphttab_value",
    "interp1d",
    "interpolate_parameterised",
    "obsmodes_match",
    "parse_obsmode",
    "phot_to_obs",
    "photmode_string",
    "remove_a2d",
    "temperature_factor",
]

#: dophot.c: PHOTFLAM, PHOTPLAM and PHOTBW all below this mean "outside the table".
IGNORED_BELOW = -9990.0
#: getphttab.c: the value returned for a parameter outside the table without EXTRAP.
OUTSIDE_TABLE = -9999.0


def photmode_string(
    *,
    aperture: str,
    ccdgain: int,
    opt_elem: str,
    obstype: str,
    cenwave: int | None,
    expstart_mjd: float,
) -> str:
    """
    PHOTMODE as ``cs1/photmode.c`` builds it for the CCD.

    Parameters
    ----------
    aperture, opt_elem, obstype : str
        Primary-header APERTURE, OPT_ELEM, OBSTYPE.
    ccdgain : int
        CCDGAIN.
    cenwave : int or None
        CENWAVE (used only for OBSTYPE SPECTROSCOPIC and a positive value).
    expstart_mjd : float
        EXPSTART of the imset (MJD), written ``%0.4f``.

    Returns
    -------
    str

    Examples
    --------
    >>> photmode_string(aperture="50CCD", ccdgain=4, opt_elem="MIRVIS", obstype="IMAGING",
    ...                 cenwave=None, expstart_mjd=58500.25)
    'STIS 50CCD A2D4 MIRROR CCD MJD#58500.2500'
    """
    parts = ["STIS", aperture, f"A2D{ccdgain}"]
    parts.append("MIRROR" if opt_elem.startswith("MIR") else opt_elem)
    parts.append("CCD")
    if obstype == "SPECTROSCOPIC" and cenwave is not None and cenwave > 0:
        parts.append(str(cenwave))
    parts.append(f"MJD#{expstart_mjd:0.4f}")
    return " ".join(parts)


def remove_a2d(photmode: str) -> tuple[str, bool]:
    """
    PHOTMODE without its ``A2D<gain>`` part (``dophot.c`` removeA2D).

    The last ``A2D`` (letters in any case) is removed up to the next blank,
    together with the blank before it (or, at the start, the blank after it).

    Returns
    -------
    tuple of (str, bool)
        The shortened string and whether ``A2D`` was found.

    Examples
    --------
    >>> remove_a2d("STIS 50CCD A2D1 MIRROR CCD")
    ('STIS 50CCD MIRROR CCD', True)
    """
    n_chars = len(photmode)
    j = k = n_chars
    found = False
    for n in range(n_chars - 2):
        if photmode[n].upper() == "A" and photmode[n + 1] == "2" and photmode[n + 2].upper() == "D":
            found = True
            k = n + 3
            while k < n_chars and photmode[k] != " ":
                k += 1
            if n == 0:
                j = 0
                k += 1
            else:
                j = n - 1
    return photmode[:j] + photmode[k:], found


def phot_to_obs(photmode: str) -> str:
    """Blanks to commas, letters to lower case (``dophot.c`` Phot2Obs)."""
    return "".join("," if c == " " else c.lower() for c in photmode)


@dataclass(frozen=True)
class ParsedObsmode:
    """An obsmode with its parameter values split off (getphttab.c InterpretPhotmode).

    Attributes
    ----------
    obsmode : str
        Parameterised parts cut after their ``#`` (``mjd#58500.25`` -> ``mjd#``).
    parnames : tuple of str
        Parameter names with their ``#``, in order of appearance.
    parvalues : tuple of float
        Their values (C ``atof``: the longest leading number, 0 if none).
    """

    obsmode: str
    parnames: tuple
    parvalues: tuple


_ATOF = re.compile(r"\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)")


def _atof(text: str) -> float:
    match = _ATOF.match(text)
    return float(match.group(0)) if match else 0.0


def parse_obsmode(obsmode: str) -> ParsedObsmode:
    """
    Split the parameters (``name#value`` parts) off an obsmode (InterpretPhotmode).

    Parameters
    ----------
    obsmode : str
        Comma-separated, lower case (`phot_to_obs`).

    Returns
    -------
    ParsedObsmode
        With no parameter the obsmode is returned unchanged (calstis then
        holds one empty parameter name with value 0).

    Raises
    ------
    NotImplementedStepError
        A part ``name#`` without a value (calstis dereferences a null pointer).
    """
    tokens = [t for t in obsmode.split(",") if t]  # strtok: empty parts vanish
    params = [t for t in tokens if "#" in t]
    if not params:
        return ParsedObsmode(obsmode, ("",), (0.0,))
    names, values = [], []
    for token in params:
        pieces = [p for p in token.split("#") if p]  # strtok on '#'
        if len(pieces) < 2:
            raise NotImplementedStepError(f"obsmode part {token!r} has no value after '#'")
        names.append(pieces[0] + "#")
        values.append(_atof(pieces[1]))
    cut = [t[: t.index("#") + 1] if "#" in t else t for t in tokens]
    return ParsedObsmode(",".join(cut), tuple(names), tuple(values))


def obsmodes_match(table_obsmode: str, obsmode: str) -> bool:
    """
    Whether a table OBSMODE matches the observation's (getphttab.c CompareObsModes).

    Equal length, and every comma-separated part of the table's OBSMODE
    occurs (as a substring) in ``obsmode``, case ignored.

    Examples
    --------
    >>> obsmodes_match("stis,ccd,mirror,50ccd,mjd#", "stis,50ccd,mirror,ccd,mjd#")
    True
    """
    if len(table_obsmode) != len(obsmode):
        return False
    lower = obsmode.lower()
    return all(part in lower for part in table_obsmode.lower().split(",") if part)


def _computebounds(x, nx: int, val: float) -> tuple[int, int]:
    """getphttab.c computebounds, literally."""
    if x[nx - 1] <= val:
        return nx - 2, nx - 1
    i0 = i1 = None
    for n in range(nx):
        if x[n] <= val:
            i0 = n
        else:
            if 0 < n < nx - 1:
                i1 = n
            elif n == 0:
                i0, i1 = 0, 1
            else:
                i0, i1 = nx - 2, nx - 1
            break
    return i0, i1


def _linterp(x, nx: int, fx, xpos: float) -> float | None:
    """getphttab.c linterp (None where calstis returns its -99 singularity flag)."""
    i0, i1 = _computebounds(x, nx, xpos)
    if (x[i1] - x[i0]) == 0:
        return None
    return fx[i0] + (xpos - x[i0]) * (fx[i1] - fx[i0]) / (x[i1] - x[i0])


@dataclass
class _Point:
    index: list
    pos: list
    value: float = 0.0


def interpolate_parameterised(row: PhotRow, obs: ParsedObsmode, *, extrap: bool) -> float:
    """
    The value of a parameterised row at the observation's parameters (ComputeValue).

    Parameters
    ----------
    row : PhotRow
    obs : ParsedObsmode
    extrap : bool
        The table's EXTRAP.

    Returns
    -------
    float
        The row's result for a scalar row; else the multi-linear interpolation
        (the first axis first, then the next, each by ``linterp``);
        -9999.0 when a parameter is outside the table (unless EXTRAP and the
        parameter is ``mjd#``, which extrapolates from the end pair); 0.0 where
        calstis's error path returns a NUL character (a parameter the obsmode lacks,
        or equal neighbouring PARkVALUES).
    """
    ndim = row.ndim
    if ndim == 0:
        return float(row.results[0])
    if ndim > len(obs.parnames):
        raise NotImplementedStepError("an IMPHTTAB row with more parameters than the obsmode")
    obsvals, early = _observed_parameters(row, obs, extrap=extrap)
    if early is not None:
        return early
    located = _table_positions(row, obsvals)
    if located is None:
        return 0.0
    return _interpolate_corners(row, obsvals, *located)


def _observed_parameters(row: PhotRow, obs: ParsedObsmode, *, extrap: bool):
    """The obsmode's value of each of the row's parameters (ComputeValue, first loop).

    Returns ``(values, None)``, or ``(None, result)`` when calstis stops
    early: 0.0 for a parameter the obsmode lacks, -9999.0 outside the table.
    """
    ndim = row.ndim
    obsvals = [0.0] * ndim
    for p in range(ndim):
        name = row.parnames[p]
        for n, obs_name in enumerate(obs.parnames):
            if len(name) > 0 and obs_name[: len(name)].lower() == name.lower():
                obsvals[p] = obs.parvalues[n]
                break
        if obsvals[p] == 0.0:
            return None, 0.0
        nx = row.nelem[p]
        if nx < 2:
            raise NotImplementedStepError(f"NELEM{p + 1} = {nx}: calstis reads outside the arrays")
        vals = row.parvals[p]
        if obsvals[p] < vals[0] or obsvals[p] > vals[nx - 1]:
            if not extrap or obs.parnames[p].lower() != "mjd#":
                return None, OUTSIDE_TABLE
    return obsvals, None


def _table_positions(row: PhotRow, obsvals: list):
    """Fractional table index of each parameter and its bracketing pair (ComputeValue).

    Returns ``(obsindx, bounds)``, or None where calstis's linterp fails
    (equal neighbouring PARkVALUES: the result is then 0.0).
    """
    obsindx = [0.0] * row.ndim
    bounds = []
    for p in range(row.ndim):
        nx = row.nelem[p]
        vals = row.parvals[p]
        out = [float(n) for n in range(nx)]
        if obsvals[p] < vals[0]:
            value = 0.0
        elif obsvals[p] > vals[nx - 1]:
            value = float(nx - 1)
        else:
            value = _linterp(vals, nx, out, obsvals[p])
            if value is None or value == -99:
                return None
        obsindx[p] = value
        bounds.append(_computebounds(out, nx, float(math.floor(value))))
    return obsindx, bounds


def _interpolate_corners(row: PhotRow, obsvals: list, obsindx: list, bounds: list) -> float:
    """Multi-linear interpolation over the 2^ndim corners, one axis at a time (ComputeValue).

    0.0 where a pairwise linterp fails, as calstis's error path returns.
    """
    ndim = row.ndim
    dimpow = 2**ndim
    points = [[_Point([0.0] * ndim, [0.0] * ndim) for _ in range(2)] for _ in range(dimpow // 2)]
    for it in range(ndim, 0, -1):
        for p in range(2**it):
            pdim, ppos = p // 2, p % 2
            point = points[pdim][ppos]
            if it == ndim:
                for n in range(ndim):
                    pindx = bounds[n][(p >> n) & 1]
                    point.index[n] = float(pindx)
                    point.pos[n] = row.parvals[n][pindx]
                indx, size = 0, 1
                for n in range(ndim):
                    indx += int(size * point.index[n])
                    size *= row.nelem[n]
                point.value = float(row.results[indx])
            if ppos == 1:
                first, second = points[pdim][0], points[pdim][1]
                delta = 0
                for n in range(ndim):
                    if second.index[n] - first.index[n] != 0:
                        delta = n
                        break
                rinterp = _linterp(
                    (first.pos[delta], second.pos[delta]),
                    2,
                    (first.value, second.value),
                    obsvals[delta],
                )
                if rinterp is None or rinterp == -99:
                    return 0.0
                x = (p - 1) // 2
                target = points[x // 2][x % 2]
                index, pos = list(first.index), list(first.pos)
                index[delta], pos[delta] = obsindx[delta], obsvals[delta]
                target.value, target.index, target.pos = rinterp, index, pos
    return points[0][0].value


def imphttab_value(rows, obs: ParsedObsmode, *, extrap: bool) -> float | str | None:
    """
    The first row matching ``obs``, evaluated there.

    None when no row matches; a str (why) when the matching row cannot be read.
    """
    for row in rows:
        if obsmodes_match(row.obsmode, obs.obsmode):
            if row.unsupported:
                raise NotImplementedStepError(row.unsupported)
            if row.failure:
                return row.failure
            return interpolate_parameterised(row, obs, extrap=extrap)
    return None


def _binary_search(x: float, wl, n: int) -> int:
    """interp1d.c BinarySearch."""
    low, high = 0, n - 2
    while high - low > 1:
        k = (low + high) // 2
        if x < wl[k]:
            high = k
        elif x > wl[k + 1]:
            low = k
        else:
            high = low = k
    if low < high:
        return high if wl[high] <= x else low
    return low


def interp1d(x: float, wl, f, *, starti: int = 0) -> float:
    """
    Linear interpolation as ``lib/interp1d.c`` does it (ends held constant).

    Parameters
    ----------
    x : float
    wl, f : sequence of float
        Increasing abscissae and the values there (same length n >= 1).
    starti : int
        The search's starting interval (dophot.c passes 0).
    """
    n = len(wl)
    if n == 1 or x <= wl[0]:
        return float(f[0])
    if x >= wl[n - 1]:
        return float(f[n - 1])
    i = starti
    if i < 0 or i > n - 2:
        i = _binary_search(x, wl, n)
    elif i > 0 and wl[i - 1] <= x < wl[i]:
        i -= 1
    elif i < n - 2 and wl[i + 1] <= x <= wl[i + 2]:
        i += 1
    elif x < wl[i] or x > wl[i + 1]:
        i = _binary_search(x, wl, n)
    p0 = (wl[i + 1] - x) / (wl[i + 1] - wl[i])
    p1 = 1.0 - p0
    return f[i] * p0 + f[i + 1] * p1


def temperature_factor(tds: TdsRow, photplam: float, temperature_c: float) -> float:
    """
    dophot.c tempFactor: divide PHOTFLAM by ``1 + s(PHOTPLAM) * (T - REFTEMP)``.

    Parameters
    ----------
    tds : TdsRow
    photplam : float
        Pivot wavelength, Angstrom (the IMPHTTAB value, double).
    temperature_c : float
        Detector temperature, deg C (-1 when not known: factor 1).
    """
    if temperature_c >= 0.0:
        s = interp1d(photplam, tds.wavelength, tds.temp_sens, starti=0)
        return 1.0 + s * (temperature_c - tds.ref_temp)
    return 1.0


@dataclass(frozen=True)
class Photometry:
    """What doPhot writes.

    Attributes
    ----------
    keywords : dict
        PHOTFLAM, PHOTZPT, PHOTPLAM, PHOTBW as float32 values (empty when the
        look-up failed).
    skipped : bool
        True when calstis sets PHOTCORR to SKIPPED (look-up failed, or -9999 values).
    message : str
        Why it was skipped, in words ("" otherwise).
    """

    keywords: dict
    skipped: bool
    message: str = ""


def compute_photometry(
    table: PhotTable,
    photmode: str,
    *,
    atodgain: float,
    tds: TdsRow | None,
    temperature_c: float,
) -> Photometry:
    """
    The photometry keywords for one product (``dophot.c`` doPhot).

    Parameters
    ----------
    table : PhotTable
        From `reference_impl.io.phottables.read_imphttab`.
    photmode : str
        The PHOTMODE just written (`photmode_string`).
    atodgain : float
        CCDTAB ATODGAIN (float32 value), electrons per DN.
    tds : TdsRow or None
        The TDSTAB row when TDSCORR is on, else None.
    temperature_c : float
        Detector temperature of the first good imset (getdettemp.c), deg C.

    Returns
    -------
    Photometry
    """
    tempphot, found_a2d = remove_a2d(photmode)
    obsmode = phot_to_obs(tempphot)
    obs = parse_obsmode(obsmode)
    values = {}
    for quantity, rows in table.extensions.items():
        if isinstance(rows, str):
            return Photometry({}, True, rows)
        value = imphttab_value(rows, obs, extrap=table.extrap)
        if value is None:
            return Photometry({}, True, f"photmode '{obsmode}' not found")
        if isinstance(value, str):
            return Photometry({}, True, value)
        values[quantity] = value
    for quantity in ("PHOTFLAM", "PHOTPLAM", "PHOTBW"):
        values.setdefault(quantity, 0.0)
    photflam = values["PHOTFLAM"]
    skipped = (
        photflam < IGNORED_BELOW
        and values["PHOTPLAM"] < IGNORED_BELOW
        and values["PHOTBW"] < IGNORED_BELOW
    )
    if not skipped:
        if found_a2d:
            photflam *= float(atodgain)
        if tds is not None:
            photflam /= temperature_factor(tds, values["PHOTPLAM"], temperature_c)
    keywords = {
        "PHOTFLAM": np.float32(photflam),
        "PHOTZPT": np.float32(table.photzpt),
        "PHOTPLAM": np.float32(values["PHOTPLAM"]),
        "PHOTBW": np.float32(values["PHOTBW"]),
    }
    message = "parameters outside the IMPHTTAB: values -9999" if skipped else ""
    return Photometry(keywords, skipped, message)
