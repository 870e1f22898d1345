"""The calstis1 tables beyond the six-step set: IMPHTTAB, TDSTAB, ATODTAB, SHADFILE.

Layouts as hstcal reads them (``lib/getphttab.c``, ``pkg/stis/lib/cs1/gettds1.c``)
and as the STIS reference files have them:

* IMPHTTAB: primary header NEXTEND = 3, PHOTZPT, PARNUM, EXTRAP (when
  extrapolation is allowed), PEDIGREE, DESCRIP; extensions PHOTFLAM, PHOTPLAM,
  PHOTBW, each a binary table with OBSMODE, DATACOL, the scalar result column,
  PEDIGREE, DESCRIP and, per parameter k, NELEMk, PARkNAMES, PARkVALUES (fixed
  width, the first NELEMk used) and the result array ``<name>k``. One row per
  imaging aperture, ``stis,<aperture>,mirror,ccd,mjd#`` (MJD-parameterised)
  plus rows calstis must not pick (other apertures, a shorter obsmode).
* TDSTAB: one binary table with OPT_ELEM, NWL, WAVELENGTH, TIME, SLOPE,
  INTERCEPT, NT, REFTEMP, TEMPSENS, PEDIGREE, DESCRIP; a row per optical element.

* ATODTAB (``cs1/doatod.c``): CCDAMP, CCDGAIN, REF_KEY, REF_KEY_VALUE, NELEM,
  ATOD (65536 float32, the first NELEM used), PEDIGREE, DESCRIP.
* SHADFILE (``cs1/doshad.c``): a reference image like the dark (unbinned, on
  the reference rows), SCI and ERR in seconds.

`IMPHTTAB_KINDS`, `TDSTAB_KINDS`, `ATODTAB_KINDS`, `SHADFILE_KINDS` name the
variants a data set can ask for.
"""

from pathlib import Path

import numpy as np
from astropy.io import fits

from stischeck.synth import fitsio

__all__ = [
    "ATODTAB_KINDS",
    "IMPHTTAB_KINDS",
    "SHADFILE_KINDS",
    "TDSTAB_KINDS",
    "shading_reference",
    "write_atodtab",
    "write_imphttab",
    "write_tdstab",
]

#: IMPHTTAB variants: what calstis should do with the data set's row.
IMPHTTAB_KINDS = {
    "mjd": "MJD-parameterised rows, the observation inside the grid (interpolated)",
    "scalar": "rows with one value each (DATACOL without a parameter number)",
    "extrap": "EXTRAP = T and the observation after the grid (extrapolated)",
    "outside": "the observation before the grid, no EXTRAP (-9999, PHOTCORR SKIPPED)",
    "missing": "no row for the aperture (PHOTCORR SKIPPED, no keywords)",
    "rowdummy": "the aperture's row has PEDIGREE DUMMY (calstis warns and uses it)",
    "dummy": "PEDIGREE = DUMMY in the primary header (PHOTCORR SKIPPED)",
}
#: TDSTAB variants.
TDSTAB_KINDS = {
    "temp": "REFTEMP and TEMPSENS given: PHOTFLAM divided by the temperature factor",
    "notemp": "no REFTEMP/TEMPSENS columns (factor 1)",
    "dummy": "PEDIGREE = DUMMY in the primary header (no temperature factor)",
    "none": "TDSTAB = N/A",
}
_APERTURES = ("50CCD", "F28X50LP", "F28X50OII")
_DECOYS = ("stis,25mama,mirror,ccd,mjd#", "stis,f25srf2,mirror,ccd,mjd#")
_QUANTITIES = {  # base value, fractional spread between apertures, change per 1000 days
    "PHOTFLAM": (4.0e-19, 0.8, 0.004),
    "PHOTPLAM": (5850.0, 0.3, -0.0005),
    "PHOTBW": (1350.0, 0.4, 0.001),
}
_WIDTH = 12  # PARkVALUES and result arrays: fixed width, NELEMk of them used


def _mjd_grid(kind: str, mjd: float, rng) -> np.ndarray:
    n = int(rng.integers(5, _WIDTH + 1))
    if kind == "extrap":
        end = mjd - float(rng.uniform(30.0, 900.0))
        start = end - float(rng.uniform(3000.0, 9000.0))
    elif kind == "outside":
        start = mjd + float(rng.uniform(1.0, 400.0))
        end = start + float(rng.uniform(3000.0, 9000.0))
    else:
        start = min(50800.0, mjd - 1.0) - float(rng.uniform(0.0, 300.0))
        end = max(61000.0, mjd + 1.0) + float(rng.uniform(0.0, 300.0))
    inner = np.sort(rng.uniform(start, end, n - 2))
    return np.round(np.concatenate([[start], inner, [end]]), 4)


def write_imphttab(path: Path, kind: str, *, aperture: str, mjd: float, rng, cards: list) -> Path:
    """
    Write an IMPHTTAB for an imaging data set.

    Parameters
    ----------
    path : Path
    kind : str
        A key of `IMPHTTAB_KINDS`.
    aperture : str
        The data set's APERTURE.
    mjd : float
        EXPSTART of its first imset (MJD), which the grid is placed around.
    rng : numpy.random.Generator
    cards : list of (key, value, comment)
        The common reference-file primary cards (`fitsio.reference_primary_cards`).
    """
    scalar = kind == "scalar"
    parnum = 0 if scalar else 1
    primary = [c for c in cards if c[0] not in ("NEXTEND", "PEDIGREE")]
    primary = [
        ("NEXTEND", 3, "number of extensions"),
        *primary,
        ("DBTABLE", "IMPHTTAB", "database table type"),
        ("PHOTZPT", -21.1, "ST magnitude zero point"),
        ("PARNUM", parnum, "number of parameterized variables"),
        ("PEDIGREE", "DUMMY" if kind == "dummy" else "MODEL", "pedigree"),
    ]
    if kind == "extrap":
        primary.append(("EXTRAP", True, "extrapolate MJD beyond the table"))
    obsmodes = [f"stis,{a.lower()},mirror,ccd,mjd#" for a in _APERTURES]
    if kind == "missing":
        obsmodes = [m for m in obsmodes if m != f"stis,{aperture.lower()},mirror,ccd,mjd#"]
    obsmodes = [_DECOYS[0], *obsmodes, _DECOYS[1], f"stis,{aperture.lower()},mirror,ccd"]
    grids = [_mjd_grid(kind, mjd, rng) for _ in obsmodes]
    aperture_factor = rng.uniform(0.0, 1.0, len(obsmodes))
    hdus = [fitsio.primary_hdu(primary)]
    for name, (base, spread, per_1000d) in _QUANTITIES.items():
        values = np.zeros((len(obsmodes), _WIDTH))
        pars = np.zeros((len(obsmodes), _WIDTH))
        scalars = np.zeros(len(obsmodes))
        for r, grid in enumerate(grids):
            level = base * (1.0 + spread * (aperture_factor[r] - 0.5))
            trend = 1.0 + per_1000d * (grid - 51000.0) / 1000.0
            wiggle = 1.0 + rng.normal(0.0, 0.002, grid.size)
            values[r, : grid.size] = level * trend * wiggle
            pars[r, : grid.size] = grid
            scalars[r] = level
        pedigree = ["MODEL"] * len(obsmodes)
        own = f"stis,{aperture.lower()},mirror,ccd,mjd#"
        if kind == "rowdummy" and own in obsmodes:  # a spectroscopic aperture has no row
            pedigree[obsmodes.index(own)] = "DUMMY"
        columns = [
            fits.Column("OBSMODE", "40A", array=obsmodes),
            fits.Column("DATACOL", "12A", array=[name if scalar else f"{name}1"] * len(obsmodes)),
            fits.Column(name, "D", array=scalars),
            fits.Column("PEDIGREE", "30A", array=pedigree),
            fits.Column("DESCRIP", "60A", array=["synthetic photometry"] * len(obsmodes)),
        ]
        if not scalar:
            columns += [
                fits.Column("NELEM1", "J", array=[g.size for g in grids]),
                fits.Column("PAR1NAMES", "12A", array=["mjd#"] * len(obsmodes)),
                fits.Column("PAR1VALUES", f"{_WIDTH}D", array=pars),
                fits.Column(f"{name}1", f"{_WIDTH}D", array=values),
            ]
        table = fits.BinTableHDU.from_columns(columns)
        table.header["EXTNAME"] = name
        hdus.append(table)
    return fitsio.write_hdus(hdus, path)


def write_tdstab(path: Path, kind: str, *, opt_elem: str, rng, cards: list) -> Path:
    """
    Write a TDSTAB with a row for ``opt_elem`` and rows for other elements.

    Parameters
    ----------
    path : Path
    kind : str
        A key of `TDSTAB_KINDS` other than ``none``.
    opt_elem : str
    rng : numpy.random.Generator
    cards : list of (key, value, comment)
    """
    elements = ["G430L", opt_elem, "G750L"]
    nwl = int(rng.integers(4, 12))
    width = 12
    wl = np.zeros((len(elements), width))
    sens = np.zeros((len(elements), width))
    for r in range(len(elements)):
        grid = np.sort(rng.uniform(2000.0, 11000.0, nwl))
        wl[r, :nwl] = np.round(grid, 2)
        sens[r, :nwl] = rng.uniform(-0.001, 0.006, nwl)
    primary = [c for c in cards if c[0] not in ("NEXTEND", "PEDIGREE")]
    primary = [
        ("NEXTEND", 1, "number of extensions"),
        *primary,
        ("PEDIGREE", "DUMMY" if kind == "dummy" else "MODEL", "pedigree"),
    ]
    n = len(elements)
    columns = [
        fits.Column("OPT_ELEM", "12A", array=elements),
        fits.Column("NWL", "J", array=[nwl] * n),
        fits.Column("WAVELENGTH", f"{width}D", array=wl),
        fits.Column("NT", "J", array=[1] * n),
        fits.Column("TIME", "1D", array=np.full((n, 1), 51000.0)),
        fits.Column("SLOPE", f"{width}D", array=np.zeros((n, width))),
        fits.Column("INTERCEPT", f"{width}D", array=np.ones((n, width))),
    ]
    if kind != "notemp":
        columns += [
            fits.Column("REFTEMP", "D", array=np.round(rng.uniform(17.0, 19.0, n), 2)),
            fits.Column("TEMPSENS", f"{width}D", array=sens),
        ]
    columns += [
        fits.Column("PEDIGREE", "30A", array=["MODEL"] * n),
        fits.Column("DESCRIP", "60A", array=["synthetic temperature sensitivity"] * n),
    ]
    table = fits.BinTableHDU.from_columns(columns)
    return fitsio.write_hdus([fitsio.primary_hdu(primary), table], path)


#: ATODTAB variants.
ATODTAB_KINDS = {
    "perform": "rows for the data set's amp and gain at three REF_KEY values, and decoys",
    "rowdummy": "the closest row has PEDIGREE DUMMY (ATODCORR SKIPPED, data unchanged)",
    "dummy": "PEDIGREE = DUMMY in the primary header (ATODCORR SKIPPED)",
}
#: SHADFILE variants.
SHADFILE_KINDS = {
    "perform": "a smooth shutter-shading map in seconds",
    "dummy": "PEDIGREE = DUMMY in the primary header (SHADCORR SKIPPED)",
}
_ATOD_WIDTH = 65536


def write_atodtab(
    path: Path, kind: str, *, amp: str, gain: int, ref_key: str, ref_value: float, rng, cards
) -> Path:
    """
    Write an ATODTAB (columns as ``cs1/doatod.c`` reads them).

    Parameters
    ----------
    path : Path
    kind : str
        A key of `ATODTAB_KINDS`.
    amp, gain : str, int
        The data set's CCDAMP and CCDGAIN.
    ref_key : str
        The SCI-header keyword the rows are chosen by (OCCDHTAV or EXPTIME).
    ref_value : float
        Its value in the data set's first imset (rows are placed around it).
    rng : numpy.random.Generator
    cards : list of (key, value, comment)
    """
    other_gain = 4 if gain == 1 else 1
    offsets = rng.uniform(0.3, 3.0, 3) * np.array([-1.0, 0.0, 1.0]) + rng.uniform(-0.2, 0.2)
    rows = [(amp, gain, ref_value + float(d)) for d in offsets]
    rows += [(amp, other_gain, ref_value), ("ANY", -1, ref_value + 50.0)]
    closest = int(np.argmin(np.abs(offsets)))
    n = len(rows)
    atod = np.zeros((n, _ATOD_WIDTH), dtype=np.float32)
    nelem = []
    index = np.arange(_ATOD_WIDTH, dtype=np.float64)
    for r in range(n):
        size = int(rng.integers(56000, _ATOD_WIDTH + 1))
        nelem.append(size)
        amplitude = float(rng.uniform(0.05, 0.6))
        period = float(rng.uniform(200.0, 3000.0))
        curve = index + amplitude * np.sin(2 * np.pi * index / period) + 2e-7 * index**2 / 65.536
        atod[r, :size] = np.round(curve[:size], 3)
    pedigree = ["MODEL"] * n
    if kind == "rowdummy":
        pedigree[closest] = "DUMMY"
    primary = [c for c in cards if c[0] not in ("NEXTEND", "PEDIGREE")]
    primary = [
        ("NEXTEND", 1, "number of extensions"),
        *primary,
        ("PEDIGREE", "DUMMY" if kind == "dummy" else "MODEL", "pedigree"),
    ]
    columns = [
        fits.Column("CCDAMP", "4A", array=[r[0] for r in rows]),
        fits.Column("CCDGAIN", "J", array=[r[1] for r in rows]),
        fits.Column("REF_KEY", "8A", array=[ref_key] * n),
        fits.Column("REF_KEY_VALUE", "D", array=[round(r[2], 3) for r in rows]),
        fits.Column("NELEM", "J", array=nelem),
        fits.Column("ATOD", f"{_ATOD_WIDTH}E", array=atod),
        fits.Column("PEDIGREE", "30A", array=pedigree),
        fits.Column("DESCRIP", "60A", array=["synthetic A-to-D correction"] * n),
    ]
    table = fits.BinTableHDU.from_columns(columns)
    return fitsio.write_hdus([fitsio.primary_hdu(primary), table], path)


def shading_reference(shape: tuple[int, int], rng) -> tuple:
    """
    A shutter-shading map (seconds) on the reference rows: a smooth ramp and bowl.

    Returns
    -------
    (sci, err, dq)
        float32 seconds, float32 seconds, int16 (a few pixels flagged 4).
    """
    ny, nx = shape
    y, x = np.mgrid[0:ny, 0:nx] / 1024.0
    base = float(rng.uniform(0.005, 0.03))
    sci = base * (1.0 + 0.8 * (x - 0.5) ** 2 + 0.5 * (y - 0.5) ** 2 + 0.3 * x)
    sci = sci + rng.normal(0.0, 2e-4, shape)
    err = np.full(shape, 5e-4)
    dq = np.zeros(shape, np.int16)
    flagged = rng.integers(0, ny * nx, 10)
    dq.flat[flagged] = 4
    return sci.astype(np.float32), err.astype(np.float32), dq
