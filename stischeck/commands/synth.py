"""``stischeck synth --out DIR``: write a synthetic STIS CCD raw file and its ``oref/``.

Example::

    stischeck synth --out work/ampA --seed 7 --amp A --gain 4 --binning 2x2 --crsplit 4

Only light imports here; the generator (numpy, astropy) is imported in `run`.
"""

import argparse
import sys

__all__ = ["HELP", "DESCRIPTION", "PARSER_CLASS", "add_arguments", "run", "params_from_args"]

#: "Not given" for options whose None means something (argparse converts string defaults).
_UNSET = object()


class _OneLineParser(argparse.ArgumentParser):
    """A sub-parser whose errors are one line (``stischeck: synth: ...``), exit 2."""

    def error(self, message):
        sys.stderr.write(f"stischeck: synth: {message} (see stischeck synth -h)\n")
        raise SystemExit(2)

    def parse_known_args(self, args=None, namespace=None):
        ns, extra = super().parse_known_args(args, namespace)
        if extra:
            self.error(f"unrecognized arguments: {' '.join(extra)}")
        return ns, extra


def _pair(text: str) -> tuple[int, int]:
    parts = text.lower().replace(",", "x").split("x")
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"'{text}' is not N or NxM")
    try:
        return int(parts[0]), int(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not N or NxM") from None


def _rows(text: str) -> tuple[int, int]:
    first, sep, n = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(first), int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not FIRST:NROWS (e.g. 497:32)") from None


def _temperature(text: str) -> float | None:
    if text.lower() in ("none", "absent", ""):
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a temperature or 'none'") from None


HELP = "write a synthetic STIS CCD raw file and a complete oref/ (calstis runs on it)"
DESCRIPTION = (
    "Write <rootname>_raw.fits, oref/ (CCDTAB, BPIXTAB, CRREJTAB, BIASFILE, "
    "DARKFILE, PFLTFILE, DFLTFILE, LFLTFILE) and manifest.json. The raw header sets "
    "DQICORR, BLEVCORR, BIASCORR, CRCORR, DARKCORR, FLATCORR to PERFORM (EXPSCORR with "
    "--expscorr; PHOTCORR, ATODCORR, SHADCORR with --photcorr, --atodcorr, --shadcorr, "
    "which also write their tables). "
    "Deterministic for a seed. Default: a 1060x32 subarray (rows 497-528)."
)
#: Bad options give one line, exit 2 (see `_OneLineParser`).
PARSER_CLASS = _OneLineParser


def add_arguments(p) -> None:
    """Register ``synth``'s arguments on its subparser ``p``."""
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--rootname", help="9-character rootname (default: from the seed)")
    p.add_argument("--amp", default="D", type=str.upper, help="amplifier A-D (default D)")
    p.add_argument("--gain", type=int, default=1, help="CCDGAIN 1 or 4 (default 1)")
    p.add_argument(
        "--binning",
        type=_pair,
        default=(1, 1),
        metavar="NxM",
        help="1, 2 or 4 per axis (full frame)",
    )
    frame = p.add_mutually_exclusive_group()
    frame.add_argument("--full-frame", action="store_true", help="full frame (1062x1044 unbinned)")
    frame.add_argument(
        "--rows", type=_rows, metavar="FIRST:N", help="subarray of detector rows (default 497:32)"
    )
    p.add_argument("--spectroscopy", action="store_true", help="long-slit spectrum (G430L 52X2)")
    p.add_argument("--aperture", help="aperture (50CCD, F28X50LP, 52X2, 52X0.2, 6X6, ...)")
    p.add_argument("--crsplit", type=int, default=2, help="CRSPLIT (default 2)")
    p.add_argument("--nrptexp", type=int, default=1, help="NRPTEXP (default 1)")
    p.add_argument("--exptime", type=float, default=600.0, metavar="S", help="total seconds")
    epoch = p.add_mutually_exclusive_group()
    epoch.add_argument(
        "--epoch",
        choices=("side1", "side2"),
        help="side1: MJD 51650, no OCCDHTAV, no dark temperature factor; "
        "side2 (default): MJD 58500",
    )
    epoch.add_argument("--mjd", type=float, help="EXPSTART of the first imset")
    p.add_argument(
        "--occdhtav",
        type=_temperature,
        default=_UNSET,
        metavar="C",
        help="CCD housing temperature, deg C, or 'none' to omit the keyword",
    )
    p.add_argument("--cr-rate", type=float, default=1.2, help="cosmic rays per cm^2 per s (1.2)")
    p.add_argument("--saturated", type=int, default=1, help="saturating, bleeding sources (1)")
    p.add_argument("--stars", type=int, default=80, help="stars per full frame (imaging, 80)")
    p.add_argument("--hot-pixels", type=int, default=400, help="hot pixels per full frame")
    p.add_argument("--new-hot-pixels", type=int, default=20, help="hot pixels the dark lacks")
    p.add_argument("--dropouts", type=int, default=0, help="runs of DATALOST fill in the raw DQ")
    p.add_argument("--flat-zeros", type=int, default=0, help="flat pixels that are exactly 0")
    p.add_argument("--skysub", choices=("mode", "none"), default="mode", help="CRREJTAB SKYSUB")
    p.add_argument("--expscorr", action="store_true", help="EXPSCORR = PERFORM")
    from stischeck.synth.photometry import (
        ATODTAB_KINDS,
        IMPHTTAB_KINDS,
        SHADFILE_KINDS,
        TDSTAB_KINDS,
    )

    p.add_argument(
        "--atodcorr",
        nargs="?",
        const="perform",
        choices=tuple(ATODTAB_KINDS),
        help="ATODCORR = PERFORM and an ATODTAB (variant: perform, rowdummy, dummy)",
    )
    p.add_argument(
        "--shadcorr",
        nargs="?",
        const="perform",
        choices=tuple(SHADFILE_KINDS),
        help="SHADCORR = PERFORM and a SHADFILE (variant: perform, dummy)",
    )

    p.add_argument(
        "--photcorr", action="store_true", help="PHOTCORR = PERFORM; write IMPHTTAB and TDSTAB"
    )
    p.add_argument(
        "--imphttab",
        choices=tuple(IMPHTTAB_KINDS),
        default="mjd",
        help="IMPHTTAB variant with --photcorr (default mjd: interpolated in MJD)",
    )
    p.add_argument(
        "--tdstab",
        choices=tuple(TDSTAB_KINDS),
        default="temp",
        help="TDSTAB variant with --photcorr (default temp; none: TDSTAB = N/A)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing data set")


def params_from_args(args):
    """The `SynthParams` the options describe (not yet validated)."""
    from stischeck.synth.params import SynthParams

    kw = {}
    if args.full_frame or tuple(args.binning) != (1, 1):
        kw["subarray"] = None
    if args.rows is not None:
        kw["subarray"] = args.rows
    if args.epoch == "side1":
        kw["expstart_mjd"], kw["occdhtav_c"] = 51650.4, None
    if args.mjd is not None:
        kw["expstart_mjd"] = args.mjd
    if args.occdhtav is not _UNSET:
        kw["occdhtav_c"] = args.occdhtav
    return SynthParams(
        seed=args.seed,
        rootname=args.rootname,
        obstype="SPECTROSCOPIC" if args.spectroscopy else "IMAGING",
        aperture=args.aperture.upper() if args.aperture else None,
        amp=args.amp,
        gain=args.gain,
        binning=tuple(args.binning),
        crsplit=args.crsplit,
        nrptexp=args.nrptexp,
        exptime_s=args.exptime,
        cr_rate=args.cr_rate,
        n_saturated=args.saturated,
        n_stars=args.stars,
        n_hot_pixels=args.hot_pixels,
        n_new_hot_pixels=args.new_hot_pixels,
        dropouts=args.dropouts,
        n_flat_zero=args.flat_zeros,
        skysub=args.skysub,
        expscorr=args.expscorr,
        photcorr=args.photcorr,
        imphttab=args.imphttab,
        tdstab=args.tdstab,
        atodcorr=args.atodcorr,
        shadcorr=args.shadcorr,
        **kw,
    )


def run(args) -> int:
    """Write the data set; print the raw file and oref paths. Errors are one line (exit 2)."""
    from pathlib import Path

    from stischeck.synth import write_dataset

    paths = write_dataset(params_from_args(args), Path(args.out), overwrite=args.overwrite)
    print(paths.raw)
    print(f"{paths.oref}/")
    return 0
