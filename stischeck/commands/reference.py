"""``stischeck reference RAW --outroot DIR/``: the reference pipeline, like ``cs0.e RAW DIR/``."""

from pathlib import Path

from stischeck.commands import options
from stischeck.inputs import REFERENCE_RULE

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


HELP = "calibrate a raw file with the numpy reference (like cs0.e RAW OUTROOT)"
DESCRIPTION = (
    "Run the reference 2-D CCD reduction with the switches in RAW's primary "
    "header and write the products calstis would write: the _flt; with CRCORR on two "
    "imsets or more the _crj instead, and the _flt beside it with EXPSCORR. Reference files "
    f"(oref$name): {REFERENCE_RULE}; every file the header's switches need is found "
    "before anything runs."
)


def add_arguments(p) -> None:
    """Register ``reference``'s arguments on its subparser ``p``."""
    p.add_argument("raw", help="STIS CCD _raw.fits or _raw.fits.gz (never modified)")
    p.add_argument(
        "--outroot",
        default="",
        help="output root as for cs0.e; a value ending in '/' is a directory",
    )
    options.add_oref_option(p)
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing products (calstis refuses, as does the default)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print information about the run (the CR rejection's count and sky); "
        "warnings are printed always",
    )


def run(args) -> int:
    """Calibrate and write; print the product names. Errors propagate to the CLI."""
    from reference_impl.io.products import product_path, write_product
    from reference_impl.io.rawfile import read_raw
    from reference_impl.pipeline import calibrate
    from stischeck.atomic import OutputError
    from stischeck.config import CALIBRATION_SWITCHES, Configuration
    from stischeck.errors import InputFileError
    from stischeck.inputs import (
        OWN_SWITCHES,
        check_references,
        find_reference_folder,
        read_raw_header,
        target_acquisition,
    )
    from stischeck.validate import check_oref, check_raw
    from stischeck.validate import check_references as check_reference_files

    raw_path = Path(args.raw)
    check_raw(raw_path)  # the harness's schema first: one line naming file, HDU, keyword
    check_oref(args.oref)
    header = read_raw_header(raw_path)  # the harness's own reader, as compare checks
    # The header's own switches, as cs0.e RAW would run them: the same reference check.
    own = Configuration(
        OWN_SWITCHES,
        tuple((k, str(header.get(k, "OMIT")).strip().upper()) for k in CALIBRATION_SWITCHES),
    )
    oref = find_reference_folder(raw_path, header, args.oref)
    check_references(raw_path, header, [own], oref, damage=False)  # every file needed is there
    check_reference_files(raw_path, oref.path)  # and none is damaged
    raw = read_raw(raw_path)  # only now: the checks' file bytes are gone by then
    result = calibrate(raw, oref_dir=oref.path, consume_input=True)  # headers only after
    for message in result.messages:
        print(f"stischeck: warning: {message}", file=__import__("sys").stderr)
    if result.nothing_to_do:
        # The reference names a target acquisition itself; say once that cs0.e does the same.
        reason = result.nothing_to_do
        if target_acquisition(header):
            reason = f"{reason.rstrip('.')}; cs0.e writes no product either"
        print(f"stischeck: {raw_path.name}: nothing to do: {reason}", file=__import__("sys").stderr)
        return 0
    paths = [product_path(raw_path, args.outroot, p.suffix) for p in result.products]
    for path in paths:
        if path.exists() and not args.overwrite:
            raise InputFileError(f"{path}: output file already exists (use --overwrite)")
    written = []
    try:
        for product, path in zip(result.products, paths, strict=True):
            if path.exists():
                path.unlink()
            write_product(product, raw.primary_header, path)
            written.append(path)
    except OSError as err:
        # All products or none: a _crj without its _flt is no cs0.e result either.
        for path in written:
            path.unlink(missing_ok=True)
        raise OutputError(
            f"{err.filename or path}: cannot write the product: {err.strerror or err}"
        ) from err
    for path in written:
        print(path)
    for note in result.notes if args.verbose else ():
        print(f"stischeck: info: {note}", file=__import__("sys").stderr)
    return 0
