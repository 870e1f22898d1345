"""Graft real STIS raw headers onto synthetic science frames that calstis calibrates.

The real headers come from the eleven public STIS CCD target-acquisition raw
files kept in ``tests/data/tastis/`` (from spacetelescope/stistools, commit
6d983cc, ``lib/stistools/tests/data/tastis/``). A grafted raw file has the
real file's primary header and its SCI/ERR/DQ extension headers, every card in
order (blank cards, section-title cards, blank-padded strings, GROUPS,
DATAMIN/DATAMAX, HISTORY/COMMENT), with the values calstis needs taken from
the synthetic data set (OBSMODE ACCUM, switches, reference files, amp, gain,
binning, geometry, exposure times), so that calstis calibrates it like any
ACCUM exposure. Synthetic keywords the real header lacks go in after the
synthetic keyword that precedes them.

``python -m tests.support.realheaders OUT_DIR`` writes the whole test set
(`CASES`); `graft` makes one file.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

__all__ = [
    "CASES",
    "Case",
    "TASTIS",
    "acq_oref",
    "crds_ccdtab",
    "crds_bpixtab",
    "graft",
    "write_case",
]

TASTIS = Path(__file__).resolve().parents[1] / "data" / "tastis"

#: Cards whose value always comes from the real header (identity of the real file
#: kept where calstis does not care) -- none: every shared keyword takes the
#: synthetic value, so the science stays consistent.
_STRUCTURAL = {
    "SIMPLE",
    "XTENSION",
    "BITPIX",
    "NAXIS",
    "NAXIS1",
    "NAXIS2",
    "EXTEND",
    "PCOUNT",
    "GCOUNT",
    "BZERO",
    "BSCALE",
}
#: Real cards removed from a grafted header: the synthetic file decides whether
#: an extension is null, so the null-extension cards follow it.
_NULL_CARDS = {"NPIX1", "NPIX2", "PIXVALUE"}
#: Synthetic-only keywords of the generator's own (not real STIS keywords).
_SYNTH_ONLY = {"SYNTHETC", "SYN_CASE", "SYN_SEED", "SYN_VER"}


#: Keywords whose real value is kept (identity of the real observation; calstis
#: reads none of them for an ACCUM CCD exposure that is not a BIAS or DARK).
_KEEP_REAL = {
    "DATE",
    "FILETYPE",
    "TELESCOP",
    "INSTRUME",
    "EQUINOX",
    "PRIMESI",
    "TARGNAME",
    "RA_TARG",
    "DEC_TARG",
    "PROPOSID",
    "LINENUM",
    "PR_INV_L",
    "PR_INV_F",
    "PR_INV_M",
    "QUALCOM1",
    "QUALCOM2",
    "QUALCOM3",
    "QUALITY",
    "POSTARG1",
    "POSTARG2",
    "OVERFLOW",
    "OPUS_VER",
    "CAL_VER",
    "PROCTIME",
    "CSYS_VER",
    "CFSTATUS",
}


def _quoted_length(image: str) -> int:
    """Characters between the quotes of a string card as written (blank padding included)."""
    start = image.index("'", 10) + 1
    k = start
    while True:
        k = image.index("'", k)
        if image[k + 1 : k + 2] == "'":
            k += 2
            continue
        return k - start


def _card(key: str, value, comment: str, real: fits.Card | None = None) -> fits.Card:
    """A card with the real card's blank padding of string values, as OPUS writes them."""
    if isinstance(value, str) and real is not None and isinstance(real.value, str):
        value = value.ljust(_quoted_length(real.image))
    return fits.Card(key, value, comment)


def _graft_header(real: fits.Header, synth: fits.Header) -> fits.Header:
    """The real header's cards in order, with the synthetic header's values."""
    out = fits.Header()
    for card in real.cards:
        key = card.keyword
        if key in _STRUCTURAL or key in _NULL_CARDS:
            continue
        take = key in synth and key not in ("HISTORY", "COMMENT", "") and key not in _KEEP_REAL
        if take and not (
            isinstance(synth[key], str) and str(card.value).strip() == synth[key].strip()
        ):
            out.append(_card(key, synth[key], card.comment, card), useblanks=False, end=True)
        else:
            # The real card as it was written (padding, format and all).
            out.append(fits.Card.fromstring(card.image), useblanks=False, end=True)
    previous = None
    for key in synth:
        if not key or key in ("HISTORY", "COMMENT") or key in _STRUCTURAL or key in _SYNTH_ONLY:
            continue
        if key not in out:
            card = fits.Card(key, synth[key], synth.comments[key])
            if previous is not None:
                out.insert(previous, card, after=True)
            else:
                out.append(card, useblanks=False, end=True)
        previous = key
    return out


def graft(synth_raw: Path, real_raw: Path, out: Path, *, bitpix16: bool = True) -> Path:
    """
    Write ``out``: the synthetic raw file's data under the real file's headers.

    Parameters
    ----------
    synth_raw : Path
        A ``stischeck synth`` raw file (ACCUM, calibratable).
    real_raw : Path
        A real STIS raw file whose headers are grafted (its first imset's
        SCI/ERR/DQ headers serve every imset).
    out : Path
        The grafted raw file.
    bitpix16 : bool
        Store SCI as BITPIX 16 with BZERO 32768 (as real raw files are).
    """
    with fits.open(real_raw) as real, fits.open(synth_raw) as syn:
        primary = _graft_header(real[0].header, syn[0].header)
        primary["FILENAME"] = out.name
        hdus = [fits.PrimaryHDU(header=primary)]
        hdus[0].header["BITPIX"] = 16  # as real raw files (dataless: no effect on data)
        real_ext = {h.name: h.header for h in real[1:4]}
        for hdu in syn[1:]:
            name = hdu.name
            header = _graft_header(real_ext[name], hdu.header)
            data = hdu.data
            new = fits.ImageHDU(data=data, header=header, name=name)
            if name == "SCI" and bitpix16 and data is not None:
                new = fits.ImageHDU(
                    data=np.asarray(data, dtype=np.uint16), header=header, name=name
                )
            for key in ("NPIX1", "NPIX2", "PIXVALUE"):
                if key in hdu.header:
                    new.header[key] = (hdu.header[key], hdu.header.comments[key])
            if "DATAMIN" in new.header and data is not None:
                new.header["DATAMIN"] = float(np.min(data))
                new.header["DATAMAX"] = float(np.max(data))
            new.header["EXTVER"] = hdu.ver
            hdus.append(new)
        out.parent.mkdir(parents=True, exist_ok=True)
        fits.HDUList(hdus).writeto(out, overwrite=True)
    return out


def crds_ccdtab(path: Path, rows: list[dict]) -> Path:
    """A CCDTAB laid out as CRDS serves it (16j1600do_ccd.fits): int16 key columns with
    TNULL = -32767, float32 values, per-row PEDIGREE and DESCRIP 67A, no BLEV_CLIP column.

    Each row: CCDAMP, CCDGAIN, CCDOFFST, BINAXIS1, BINAXIS2, ATODGAIN, CCDBIAS, READNSE,
    SATURATE, and optionally PEDIGREE, DESCRIP.
    """

    def col(name, fmt, values, **kw):
        return fits.Column(name=name, format=fmt, array=np.array(values), **kw)

    cols = [col("CCDAMP", "1A", [r["CCDAMP"] for r in rows])]
    for name in ("CCDGAIN", "CCDOFFST", "BINAXIS1", "BINAXIS2"):
        cols.append(col(name, "1I", np.array([r[name] for r in rows], np.int16), null=-32767))
    for name in ("ATODGAIN", "CCDBIAS", "READNSE", "SATURATE"):
        cols.append(col(name, "1E", np.array([r[name] for r in rows], np.float32)))
    cols.append(
        col("PEDIGREE", "67A", [r.get("PEDIGREE", "INFLIGHT 01/05/2009 01/05/2009") for r in rows])
    )
    cols.append(
        col(
            "DESCRIP",
            "67A",
            [r.get("DESCRIP", "gain and read noise from flight data") for r in rows],
        )
    )
    table = fits.BinTableHDU.from_columns(cols)
    primary = fits.PrimaryHDU()
    primary.header["FILETYPE"] = "CCD PARAMETERS TABLE"
    primary.header["USEAFTER"] = "Jan 01 1997 00:00:00"
    primary.header["PEDIGREE"] = "INFLIGHT 01/05/2009 01/05/2009"
    primary.header["DESCRIP"] = "Updated read noise and gain values for all amps"
    primary.header.add_history("Real-layout CCDTAB written by tests/support/realheaders.py")
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.HDUList([primary, table]).writeto(path, overwrite=True)
    return path


def crds_bpixtab(path: Path, runs: list[tuple[int, int, int, int, int]]) -> Path:
    """A BPIXTAB laid out as CRDS serves it (h1v11475o_bpx.fits, written by IDL): PIX1, PIX2,
    LENGTH, AXIS, VALUE all 1I with TNULL = -32767, no OPT_ELEM column; SIZAXIS1/2 1024."""
    arr = np.array(runs, dtype=np.int16).reshape(-1, 5)
    cols = [
        fits.Column(name=n, format="1I", array=arr[:, k], null=-32767)
        for k, n in enumerate(("PIX1", "PIX2", "LENGTH", "AXIS", "VALUE"))
    ]
    table = fits.BinTableHDU.from_columns(cols)
    table.header["SIZAXIS1"] = 1024
    table.header["SIZAXIS2"] = 1024
    primary = fits.PrimaryHDU()
    primary.header["FILETYPE"] = "BAD PIXEL TABLE"
    primary.header["PEDIGREE"] = "INFLIGHT 01/01/2011 01/03/2011"
    primary.header["DESCRIP"] = "Bad pixel table for the STIS CCD"
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.HDUList([primary, table]).writeto(path, overwrite=True)
    return path


def acq_oref(oref: Path) -> Path:
    """The reference tables the real ACQ files name (CCDTAB, BPIXTAB), in real layouts.

    With every switch OMIT calstis still opens the CCDTAB; with DQICORR the BPIXTAB.
    """
    rows = [
        dict(
            CCDAMP=amp,
            CCDGAIN=gain,
            CCDOFFST=3,
            BINAXIS1=1,
            BINAXIS2=1,
            ATODGAIN=atod,
            CCDBIAS=1500.0,
            READNSE=rn,
            SATURATE=33000.0 if gain == 1 else 65000.0,
        )
        for amp in "ABCD"
        for gain, atod, rn in ((1, 1.002, 5.3), (4, 4.008, 7.5))
    ]
    for name in ("16j1600do_ccd.fits", "q4a1311fo_ccd.fits"):
        crds_ccdtab(oref / name, rows)
    crds_bpixtab(
        oref / "h1v11475o_bpx.fits",
        [(500, 520, 1, 1, 16), (540, 500, 3, 2, 16), (100, 100, 5, 1, 256)],
    )
    return oref


@dataclass(frozen=True)
class Case:
    """One real-header case: a synthetic data set and the real file whose headers it wears."""

    name: str
    real: str
    synth: dict
    compress: bool = False  # BIASFILE tile-compressed RICE_1, DARKFILE GZIP_2
    wildcard_first: bool = False  # a CCDTAB wildcard row (-1) ahead of the exact rows


#: The real-header test set (>= 20 cases).
CASES = [
    Case("ff4x4-crs1-d-g1", "ocmv0lw6q", dict(binning=(4, 4), subarray=None, crsplit=1)),
    Case(
        "ff4x4-crs2-d-g4",
        "o4er06llq",
        dict(binning=(4, 4), subarray=None, crsplit=2, gain=4),
        compress=True,
    ),
    Case("ff4x4-crs3-a-g1", "ocoa03q2q", dict(binning=(4, 4), subarray=None, crsplit=3, amp="A")),
    Case(
        "ff4x4-crs4-c-g4",
        "oc7w11viq",
        dict(binning=(4, 4), subarray=None, crsplit=4, amp="C", gain=4),
    ),
    Case("ff4x2-crs2-b-g1", "octka7jeq", dict(binning=(4, 2), subarray=None, crsplit=2, amp="B")),
    Case("ff2x4-crs1-d-g4", "octr11h4q", dict(binning=(2, 4), subarray=None, crsplit=1, gain=4)),
    Case("sub16-crs1-d-g1", "octr11hrq", dict(subarray=(505, 16), crsplit=1), wildcard_first=True),
    Case(
        "sub16-crs2-d-g4", "ocu252cmq", dict(subarray=(505, 16), crsplit=2, gain=4), compress=True
    ),
    Case("sub16-crs3-a-g1", "ocui04xeq", dict(subarray=(300, 16), crsplit=3, amp="A")),
    Case("sub16-crs4-b-g4", "ocyw05afq", dict(subarray=(700, 16), crsplit=4, amp="B", gain=4)),
    Case(
        "sub16-crs2-c-g1",
        "od3v01bfq",
        dict(subarray=(505, 16), crsplit=2, amp="C"),
        wildcard_first=True,
    ),
    Case(
        "sub16-crs1-spec", "ocmv0lw6q", dict(subarray=(505, 16), crsplit=1, obstype="SPECTROSCOPIC")
    ),
    Case(
        "sub16-crs2-spec-g4",
        "o4er06llq",
        dict(subarray=(505, 16), crsplit=2, obstype="SPECTROSCOPIC", gain=4),
    ),
    Case("sub16-rpt2", "ocoa03q2q", dict(subarray=(505, 16), crsplit=1, nrptexp=2)),
    Case("sub16-crs2-expscorr", "oc7w11viq", dict(subarray=(505, 16), crsplit=2, expscorr=True)),
    Case(
        "sub16-crs2-side1",
        "octka7jeq",
        dict(subarray=(505, 16), crsplit=2, expstart_mjd=51650.0, occdhtav_c=None),
    ),
    Case("sub16-crs3-sat", "octr11h4q", dict(subarray=(505, 16), crsplit=3, n_saturated=3)),
    Case("sub16-crs1-drop", "octr11hrq", dict(subarray=(505, 16), crsplit=1, dropouts=2)),
    Case("sub32-crs2-d-g1", "ocu252cmq", dict(subarray=(497, 32), crsplit=2)),
    Case(
        "ff4x4-crs2-spec",
        "ocui04xeq",
        dict(binning=(4, 4), subarray=None, crsplit=2, obstype="SPECTROSCOPIC"),
    ),
    Case(
        "ff4x4-crs1-b-g4",
        "ocyw05afq",
        dict(binning=(4, 4), subarray=None, crsplit=1, amp="B", gain=4),
    ),
    Case("sub16-crs4-d-g1", "od3v01bfq", dict(subarray=(505, 16), crsplit=4)),
]


def _binned_full_frame(hdul, b1: int, b2: int) -> None:
    """Bin an unbinned full-frame 1024x1024 reference image to the science's binning."""
    for hdu in hdul[1:]:
        if hdu.data is None:
            continue
        ny, nx = hdu.data.shape
        blocks = hdu.data.reshape(ny // b2, b2, nx // b1, b1)
        if hdu.name == "DQ":
            data = np.bitwise_or.reduce(np.bitwise_or.reduce(blocks, axis=3), axis=1)
        else:
            data = blocks.astype(np.float64).mean(axis=(1, 3)).astype(np.float32)
        hdu.data = data
        hdu.header["LTM1_1"] = 1.0 / b1
        hdu.header["LTM2_2"] = 1.0 / b2
        hdu.header["LTV1"] = (1.0 - 1.0 / b1) / 2.0
        hdu.header["LTV2"] = (1.0 - 1.0 / b2) / 2.0


def _shrink_oref(oref: Path, binning: tuple[int, int]) -> None:
    """Make the reference images small to store: ERR zero, SCI rounded, full frames binned."""
    for path in sorted(oref.glob("*.fits")):
        if path.name.split("_")[-1] not in (
            "bia.fits",
            "drk.fits",
            "pfl.fits",
            "dfl.fits",
            "lfl.fits",
        ):
            continue
        with fits.open(path) as hdul:
            hdul = fits.HDUList([h.copy() for h in hdul])
        step = 1 / 4096 if path.name.endswith("fl.fits") else 1 / 16
        for hdu in hdul[1:]:
            if hdu.name == "ERR" and hdu.data is not None:
                hdu.data = np.zeros_like(hdu.data)
            if hdu.name == "SCI" and hdu.data is not None:
                # Fewer significant bits: the files gzip small (both sides read the same values).
                hdu.data = (np.round(hdu.data / step) * step).astype(np.float32)
        sci = hdul["SCI"]
        if sci.data.shape == (1024, 1024) and binning != (1, 1):
            _binned_full_frame(hdul, *binning)
        hdul.writeto(path, overwrite=True)


def _tile_compress(path: Path, compression: str) -> None:
    """Rewrite a reference image with its SCI, ERR and DQ tile-compressed (CRDS style)."""
    with fits.open(path) as hdul:
        out = [hdul[0].copy()]
        for hdu in hdul[1:]:
            if hdu.data is None:
                out.append(hdu.copy())
                continue
            kwargs = {}
            if compression == "GZIP_2" or hdu.data.dtype.kind != "f":
                kwargs["quantize_level"] = 0.0  # lossless
            out.append(
                fits.CompImageHDU(
                    data=hdu.data, header=hdu.header, compression_type=compression, **kwargs
                )
            )
        fits.HDUList(out).writeto(path, overwrite=True)


def _real_layout_tables(oref: Path, *, wildcard_first: bool) -> None:
    """Rewrite the synthetic tables as CRDS lays them out (../shared/docs/real-stis-files.md).

    CCDTAB: ``CCDAMP 1A``, int16 keys with ``TNULL``, per-row PEDIGREE/DESCRIP 67A, no
    BLEV_CLIP column (calstis's default 50 applies, getccdtab.c), a later duplicate of
    every row marked DUMMY (calstis takes the first matching row, getccdtab.c), and
    optionally a wildcard row (-1 for gain, offset and binning) first. BPIXTAB: all 1I
    with TNULL, no OPT_ELEM. CRREJTAB: ``CRSPLIT 1I``, ``SCALENSE 8A`` (a string),
    ``SKYSUB 4A``, ``CRSIGMAS 20A``, ``BADINPDQ 1I``, ``CRMASK 1L``.
    """
    for path in oref.glob("*_ccd.fits"):
        with fits.open(path) as hdul:
            t = hdul[1].data
            rows = [
                {
                    name: (t[name][k].strip() if isinstance(t[name][k], str) else t[name][k])
                    for name in t.columns.names
                    if name != "BLEV_CLIP"
                }
                for k in range(len(t))
            ]
        dummies = [
            {**r, "ATODGAIN": r["ATODGAIN"] * 2, "PEDIGREE": "DUMMY", "DESCRIP": "never used"}
            for r in rows
        ]
        first = []
        if wildcard_first:
            seen: dict = {}
            for r in rows:  # one wildcard row per amp: the first row of that amp
                seen.setdefault(r["CCDAMP"], r)
            first = [
                {
                    **r,
                    "CCDGAIN": -1,
                    "CCDOFFST": -1,
                    "BINAXIS1": -1,
                    "BINAXIS2": -1,
                    "READNSE": r["READNSE"] + 0.25,
                    "DESCRIP": "wildcard row, any gain/binning",
                }
                for r in seen.values()
            ]
        crds_ccdtab(path, first + rows + dummies)
    for path in oref.glob("*_bpx.fits"):
        with fits.open(path) as hdul:
            t = hdul[1].data
            runs = list(zip(t["PIX1"], t["PIX2"], t["LENGTH"], t["AXIS"], t["VALUE"], strict=True))
        crds_bpixtab(path, runs)
    for path in oref.glob("*_crr.fits"):
        with fits.open(path) as hdul:
            primary = hdul[0].copy()
            t = hdul[1].data
            cols = [
                fits.Column("CRSPLIT", "1I", array=t["CRSPLIT"].astype(np.int16), null=-32767),
                fits.Column("MEANEXP", "1E", array=t["MEANEXP"]),
                fits.Column("SCALENSE", "8A", array=np.array([f"{v:.1f}" for v in t["SCALENSE"]])),
                fits.Column("INITGUES", "8A", array=t["INITGUES"]),
                fits.Column("SKYSUB", "4A", array=t["SKYSUB"]),
                fits.Column("CRSIGMAS", "20A", array=t["CRSIGMAS"]),
                fits.Column("CRRADIUS", "1E", array=t["CRRADIUS"]),
                fits.Column("CRTHRESH", "1E", array=t["CRTHRESH"]),
                fits.Column("BADINPDQ", "1I", array=t["BADINPDQ"].astype(np.int16), null=-32767),
                fits.Column("CRMASK", "1L", array=t["CRMASK"].astype(bool)),
            ]
        fits.HDUList([primary, fits.BinTableHDU.from_columns(cols)]).writeto(path, overwrite=True)


def write_case(case: Case, out_dir: Path, *, seed: int = 14) -> Path:
    """Write the case's synthetic data set to ``out_dir`` and graft the real headers on it."""
    import shutil

    from stischeck.synth import SynthParams, write_dataset

    params = SynthParams(seed=seed, **case.synth)
    work = out_dir / "synth"
    paths = write_dataset(params, work, overwrite=True)
    raw = Path(paths.raw)
    out = out_dir / raw.name
    graft(raw, TASTIS / f"{case.real}_raw.fits", out)
    oref = out_dir / "oref"
    oref.mkdir(exist_ok=True)
    for f in (work / "oref").iterdir():
        f.replace(oref / f.name)
    shutil.rmtree(work)
    _shrink_oref(oref, params.binning)
    _real_layout_tables(oref, wildcard_first=case.wildcard_first)
    if case.compress:
        for path in oref.glob("*_bia.fits"):
            _tile_compress(path, "RICE_1")
        for path in oref.glob("*_drk.fits"):
            _tile_compress(path, "GZIP_2")
    return out


def main(argv=None) -> int:
    """``python -m tests.support.realheaders OUT_DIR [--record TRUTH_DIR]``.

    Writes every case to ``OUT_DIR/<case>/``; with ``--record``, runs
    ``stischeck record RAW --out TRUTH_DIR/<case> --oref OUT_DIR/<case>/oref
    --steps FLATCORR`` on each (cs0.e from ``$STISCHECK_CALSTIS`` or PATH), which
    is how tests/data/realheaders was made.
    """
    import argparse

    from stischeck.cli import main as cli_main

    parser = argparse.ArgumentParser(prog="python -m tests.support.realheaders")
    parser.add_argument("out", type=Path)
    parser.add_argument("--record", type=Path, metavar="TRUTH_DIR")
    args = parser.parse_args(argv)
    for k, case in enumerate(CASES):
        raw = write_case(case, args.out / case.name, seed=140 + k)
        sys.stdout.write(f"{case.name} {raw}\n")
        if args.record:
            out = args.record / case.name
            argv = ["record", str(raw), "--out", str(out), "--oref", str(raw.parent / "oref")]
            if cli_main([*argv, "--steps", "FLATCORR"]) != 0:
                return 2
    return 0


if __name__ == "__main__":  # pragma: no cover - the generator's command line
    sys.exit(main())
