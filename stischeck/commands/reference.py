"""``stischeck reference RAW --outroot DIR/``: the reference pipeline, like ``cs0.e RAW DIR/``."""

from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    """Register ``reference``."""
    p = subparsers.add_parser(
        "reference",
        help="calibrate a raw file with the numpy reference (like cs0.e RAW OUTROOT)",
        description="Run the reference 2-D CCD reduction with the switches in RAW's primary "
        "header and write the products calstis would write (_flt, and _crj with CRCORR).",
    )
    p.add_argument("raw", help="STIS CCD _raw.fits or _raw.fits.gz (never modified)")
    p.add_argument(
        "--outroot",
        default="",
        help="output root as for cs0.e; a value ending in '/' is a directory",
    )
    p.add_argument(
        "--oref",
        metavar="DIR",
        help="directory for oref$ reference names "
        "(default: the 'oref' environment variable, then $CRDS_PATH)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing products (calstis refuses, as does the default)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    """Calibrate and write; print the product names. Errors propagate to the CLI."""
    from reference_impl.io.products import product_path, write_product
    from reference_impl.io.rawfile import read_raw
    from reference_impl.pipeline import calibrate
    from stischeck.atomic import OutputError
    from stischeck.errors import InputFileError
    from stischeck.validate import check_oref, check_raw, check_references

    raw_path = Path(args.raw)
    check_raw(raw_path)  # the harness's schema first: one line naming file, HDU, keyword
    check_oref(args.oref)
    check_references(raw_path, Path(args.oref) if args.oref else None)
    raw = read_raw(raw_path)
    result = calibrate(raw, oref_dir=Path(args.oref) if args.oref else None)
    for message in result.messages:
        print(f"stischeck: warning: {message}", file=__import__("sys").stderr)
    if result.nothing_to_do:
        print(
            f"stischeck: {raw_path.name}: nothing to do: {result.nothing_to_do}",
            file=__import__("sys").stderr,
        )
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
    return 0
