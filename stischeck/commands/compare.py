"""``stischeck compare RAW``: reference vs live calstis (vs stored truth), per configuration."""

import os
import sys
from pathlib import Path

from stischeck.commands import options
from stischeck.commands.selection import selection
from stischeck.inputs import REFERENCE_RULE

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


HELP = "run the reference and calstis side by side on the switch configurations"
DESCRIPTION = (
    "Run the numpy reference and the real cs0.e on identical switch "
    "configurations (default: the cumulative 2-D ladder RAW, +DQICORR, +BLEVCORR, "
    "+BIASCORR, +CRCORR, +DARKCORR, +FLATCORR) and compare every product with "
    "stischeck diff. Reference files (oref$name): "
    f"{REFERENCE_RULE}; every file the configurations need is found before anything runs. "
    "A target acquisition (OBSMODE ACQ, ACQ/PEAK) is not compared unless switches are "
    "chosen. Exit 0 all agree, 1 something differs, 2 could not run."
)


def add_arguments(p) -> None:
    """Register ``compare``'s arguments on its subparser ``p``."""
    p.add_argument("raw", help="STIS CCD _raw.fits[.gz] (never modified)")
    options.add_oref_option(p)
    p.add_argument("--outdir", metavar="DIR", help="output folder (default reports/<rootname>/)")
    p.add_argument(
        "--truth", metavar="DIR", help="stored products laid out like the corpus (<STEP>/...)"
    )
    options.add_comparison_options(p)
    p.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        metavar="N",
        help="calstis runs (and comparisons) at a time, beside the reference's worker "
        "(default %(default)s: the smaller of 2 and the CPU count)",
    )
    p.add_argument("--no-html", action="store_true", help="write the CSV tables only")
    p.add_argument(
        "--keep",
        choices=("differing", "all"),
        default="differing",
        help="what stays under runs/ once the tables and report are written (default differing: "
        "the staged inputs and products of configurations where the sides differ or a run "
        "failed; trailers always); all: everything",
    )
    p.add_argument(
        "--pixel",
        metavar="X,Y",
        action="append",
        help="a pixel (FITS, 1-based) to follow through the steps in the report",
    )


def run(args) -> int:
    """Run the comparison; print a few lines; return 0, 1 or 2."""
    from stischeck.runners.reference import ReferencePool

    # The reference worker starts while the inputs are checked (a core is idle
    # until cs0.e starts); any error before the runs stops it with the rest.
    with ReferencePool(1).warm() as pool:
        return _run(args, pool)


def _run(args, reference_pool) -> int:
    from stischeck.compare.keep import prune_agreeing_runs
    from stischeck.compare.service import compare_dataset, plan_comparison
    from stischeck.diff.policy import load_policy
    from stischeck.errors import InputFileError
    from stischeck.outdir import finish_outdir
    from stischeck.validate import READ_BY, check_oref, validate_raw, validate_references

    pixels = []
    if args.pixel and not args.no_html:
        from stischeck.report import parse_pixels

        pixels = parse_pixels(args.pixel)  # a bad --pixel is a usage error before anything runs
    raw = Path(args.raw)
    check_oref(Path(args.oref) if args.oref else None)
    truth = Path(args.truth) if args.truth else None
    chosen = selection(args)  # a bad --only/--steps/--switches is a usage error first
    # The harness's schema: a damaged raw file is one line naming file, HDU, keyword.
    damaged = [v.line(str(raw)) for v in validate_raw(raw)]
    if damaged:
        raise InputFileError(_rejected(args, raw, _probe_oref(raw, args), damaged))
    # Damage is checked below, to say what calstis does with the damaged file.
    plan = plan_comparison(raw, oref=args.oref, truth=truth, selection=chosen, check_damage=False)
    calstis = _calstis(args, truth)
    if pixels:
        check_pixels(pixels, raw, plan.configurations)
    damaged = validate_references(raw, plan.oref, switches={s for s in READ_BY.values() if s})
    if damaged:
        raise InputFileError(_rejected(args, raw, plan.oref, damaged))

    baseline = baseline_settings(args, raw, plan, calstis)
    outdir = Path(args.outdir) if args.outdir else Path("reports") / plan.rootname
    outcome = compare_dataset(
        plan,
        outdir,
        calstis=calstis,
        policy=load_policy(args.policy) if args.policy else None,
        timeout_s=args.timeout,
        jobs=args.jobs,
        steplocal=args.steplocal,
        progress=sys.stderr.isatty(),
        runner=args.runner,
        reference_pool=reference_pool,
        **baseline,
    )
    sys.stdout.write(outcome.text)
    sys.stdout.flush()
    if not args.no_html:
        _write_report(outdir, args.pixel)
    prune_agreeing_runs(outdir, args.keep)  # after the report, which shows the products
    if not args.no_html:
        finish_outdir(outdir, "complete")
    if outcome.exit_code == 2:
        # The reason is in the tables too, but whoever reads stderr must see it.
        print(f"stischeck: {error_reason(outcome.run)}", file=sys.stderr)
    return outcome.exit_code


def baseline_settings(args, raw: Path, plan, calstis: Path | None) -> dict:
    """
    `options.baseline_settings`, and reference set A holding every file, undamaged.

    Raises
    ------
    InputFileError
        ``--baseline-oref`` lacks a file the configurations need, or holds a
        damaged one; and as `options.baseline_settings`.
    """
    from stischeck.inputs import ReferenceFolder, check_references
    from stischeck.validate import READ_BY
    from stischeck.validate import check_references as check_reference_files

    settings = options.baseline_settings(args, calstis)
    folder = settings["baseline_oref"]
    if folder is not None:
        check_references(raw, plan.header, plan.configurations,
                         ReferenceFolder(folder, "--baseline-oref"), damage=False)  # fmt: skip
        check_reference_files(raw, folder, switches={s for s in READ_BY.values() if s})
    return settings


def _calstis(args, truth: Path | None) -> Path | None:
    """cs0.e as --calstis, $STISCHECK_CALSTIS or PATH give it; None with --no-calstis.

    Raises
    ------
    CalstisError
        cs0.e not found and nothing else to compare the reference with.
    UsageError
        --no-calstis without --truth.
    """
    from stischeck.environment import find_calstis
    from stischeck.errors import CalstisError, UsageError

    calstis = None
    if not args.no_calstis:
        calstis, where = find_calstis(args.calstis)
        if calstis is None and (args.calstis or truth is None):
            raise CalstisError(
                f"cs0.e: {where}; install hstcal, or give --truth DIR (and --no-calstis)"
            )
    if calstis is None and truth is None:
        raise UsageError("nothing to compare the reference with: give calstis or --truth DIR")
    return calstis


#: The illuminated CCD, in unbinned pixels, on each axis (calstis-ccd-2d.md §6.1).
CCD_ILLUMINATED_PIX = 1024
#: Serial overscan columns at each end of a full-frame row, unbinned.
SERIAL_OVERSCAN_COLS = 19
#: Virtual overscan rows a full frame has beyond the illuminated rows.
VIRTUAL_OVERSCAN_ROWS = 20
#: Columns a 1 x 1 subarray has less of each serial overscan than a full frame.
SUBARRAY_BORDER_COLS = 1


def blevcorr_trimmed_size(nx: int, ny: int, bins: tuple[int, int]) -> tuple[int, int] | None:
    """
    ``(nx, ny)`` of a raw CCD frame once BLEVCORR has trimmed its overscan; None if too small.

    The harness's own statement of the hard-coded geometry of calstis 3.5.0
    (calstis-ccd-2d.md §6.1; hstcal ``findover.c``, ``stissizes.h``). The
    amplifier only chooses which end of each axis a border is cut from, never
    how much is cut, so the trimmed size does not depend on it.

    Parameters
    ----------
    nx, ny : int
        Raw frame size, pixels (NAXIS1, NAXIS2 of a SCI extension).
    bins : tuple of int
        ``(bin_x, bin_y)``, ``NINT(1/LTM1_1)`` and ``NINT(1/LTM2_2)``.

    Returns
    -------
    tuple of int or None
        ``(nx, ny)`` trimmed, pixels; None when calstis finds the frame too small
        to trim (it then subtracts CCDBIAS and keeps the raw size, §6.7).

    Examples
    --------
    >>> blevcorr_trimmed_size(1062, 1044, (1, 1))  # full frame
    (1024, 1024)
    >>> blevcorr_trimmed_size(532, 522, (2, 2))  # binned 2 x 2: a mixed pixel off each row end
    (511, 512)
    >>> blevcorr_trimmed_size(1060, 48, (1, 1))  # subarray
    (1024, 48)
    """
    bin_x, bin_y = bins
    full_frame = bin_x == bin_y == 1 and ny > CCD_ILLUMINATED_PIX
    subarray = bin_x == bin_y == 1 and not full_frame
    if full_frame:
        left = right = SERIAL_OVERSCAN_COLS
        bottom, top = 0, VIRTUAL_OVERSCAN_ROWS
    elif subarray:
        left = right = SERIAL_OVERSCAN_COLS - SUBARRAY_BORDER_COLS
        bottom = top = 0
    else:
        # Binned: 1024/bin columns kept, less the mixed pixel at each end when bin_x > 1.
        kept = CCD_ILLUMINATED_PIX if bin_x == 1 else CCD_ILLUMINATED_PIX // bin_x - 1
        left = SERIAL_OVERSCAN_COLS if bin_x == 1 else (SERIAL_OVERSCAN_COLS + 1) // bin_x
        right = nx - kept - left
        bottom, top = 0, ny - CCD_ILLUMINATED_PIX // bin_y
    trimmed = (nx - left - right, ny - bottom - top)
    too_small = min(left, right, bottom, top) < 0
    if full_frame:
        too_small = too_small or min(trimmed) < CCD_ILLUMINATED_PIX
    elif subarray:
        too_small = too_small or trimmed[0] < CCD_ILLUMINATED_PIX
    return None if too_small else trimmed


def _first_sci_size(raw: Path) -> tuple[int, int, tuple[int, int]] | None:
    """``(nx, ny, (bin_x, bin_y))`` of the raw file's first SCI extension; None if unreadable."""
    from stischeck.errors import InputFileError
    from stischeck.fits import read_hdus

    try:
        sci = next((v.header for v in read_hdus(raw) if v.extname == "SCI"), None)
        if sci is None:
            return None
        nx, ny = int(sci["NAXIS1"]), int(sci["NAXIS2"])
        bins = tuple(max(1, round(1.0 / float(sci.get(k, 1.0)))) for k in ("LTM1_1", "LTM2_2"))
    except (InputFileError, KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    return nx, ny, bins


def final_shape(raw: Path, configurations) -> tuple[int, int, str] | None:
    """
    ``(nx, ny, what)`` of the final product the configurations will write, from the raw file.

    The final product is that of the last configuration with a product; with
    BLEVCORR it is the raw frame less the overscan calstis trims
    (`blevcorr_trimmed_size`), else the raw frame. Read with the harness's own
    FITS layer. None when no configuration writes a product or the raw file's
    first SCI header cannot be read (the run itself then reports the file's problem).
    """
    final = next((c for c in reversed(configurations) if c.expects_products), None)
    size = _first_sci_size(raw) if final is not None else None
    if size is None:
        return None
    nx, ny, bins = size
    if "BLEVCORR" not in final.performed:
        return nx, ny, f"{raw.name}, untrimmed ({final.name} has no BLEVCORR)"
    trimmed = blevcorr_trimmed_size(nx, ny, bins)
    if trimmed is None:
        return nx, ny, f"{raw.name}, too small to trim"
    return *trimmed, f"{raw.name}: {nx} x {ny} raw, less the overscan BLEVCORR trims"


def check_pixels(pixels, raw: Path, configurations) -> None:
    """
    Check ``--pixel`` values against the final product's size before anything runs.

    Raises
    ------
    UsageError
        A pixel outside the final (trimmed) product, one line with its bounds.
    """
    from stischeck.errors import UsageError

    shape = final_shape(raw, configurations)
    if shape is None:
        return
    nx, ny, what = shape
    for x, y in pixels:
        if not (1 <= x <= nx and 1 <= y <= ny):
            raise UsageError(
                f"--pixel {x},{y}: outside the final product, {nx} x {ny} pixels ({what}); "
                f"FITS x 1..{nx}, y 1..{ny}"
            )


def _probe_oref(raw: Path, args):
    """The reference folder for calstis's one run on a rejected raw file (None: none found).

    Without it cs0.e would say "Calibration file(s) missing" on a file it calibrates.
    """
    from stischeck.inputs import find_reference_folder

    try:
        return find_reference_folder(raw, None, args.oref).path
    except Exception:  # noqa: BLE001 - a header too damaged to resolve: --oref as given
        return Path(args.oref) if args.oref else None


def _rejected(args, raw: Path, oref, damaged: list[str]) -> str:
    """
    One line for a raw file the harness's schema rejects, with what calstis does on it.

    The reference never runs such a file. When cs0.e is at hand it runs once
    on a copy, in a temporary folder, with the switches of the first
    configuration compare would run (the raw header's own switches when its
    primary header cannot be read), so the line says whether calstis crashes,
    refuses too, or calibrates it (a difference of behaviour between the
    pipelines, never agreement).
    """
    import tempfile

    from stischeck import config as cfg
    from stischeck.environment import find_calstis
    from stischeck.inputs import read_raw_header
    from stischeck.runners.calstis import execute_calstis
    from stischeck.runners.outcome import prepare_input

    reason = damaged[0]
    if len(damaged) > 1:
        reason += f" (and {len(damaged) - 1} more problem(s))"
    calstis = None
    if not args.no_calstis:
        calstis, _ = find_calstis(args.calstis)
    if calstis is None:
        return reason
    switches, performed, expects = {}, (), None
    try:
        header = read_raw_header(raw)
        first = next(
            c for c in cfg.configurations_for(header, **selection(args)) if c.expects_products
        )
        switches, performed, expects = first.switch_dict, first.performed, True
    except Exception:  # noqa: BLE001 - a header too damaged to read: its own switches
        pass
    with tempfile.TemporaryDirectory(prefix="stischeck-rejected-") as tmp:
        try:
            staged = prepare_input(raw, Path(tmp) / "input", switches)
        except Exception:  # noqa: BLE001 - a file too damaged to copy: the reason stands
            return reason
        outcome = execute_calstis(
            calstis,
            staged,
            oref.resolve() if oref else None,
            Path(tmp) / "calstis",
            timeout_s=min(float(args.timeout), 120.0),
            expects_products=expects,
            performed=performed,
        )
    if outcome.returncode is not None and outcome.returncode < 0:
        signum = -outcome.returncode
        return f"calstis crashed (signal {signum}) on an input the reference rejects: {reason}"
    if outcome.status == "error":
        return f"{reason}; calstis refuses it too ({outcome.message})"
    return f"{reason}; calstis calibrates it (exit 0), the reference does not"


def error_reason(result) -> str:
    """One line: why a comparison could not be made (the first error, and how many more)."""
    errors = [
        f"{name} {side}: {o.message.removeprefix(side + ': ')}"
        for (name, side), o in sorted(result.runs.items())
        if o.status == "error"
    ]
    errors += [
        f"{r['configuration']} {r['comparison']}: {r['detail']}"
        for r in result.rows
        if r["verdict"] == "error" and r.get("detail")
    ]
    if not errors:
        return f"{result.rootname}: could not compare (see {result.settings.outdir}/verdicts.csv)"
    first = " ".join(errors[0].split())
    more = f" (and {len(errors) - 1} more error(s), see {result.settings.outdir}/runs.csv)"
    return f"{result.rootname}: {first}" + (more if len(errors) > 1 else "")


def _write_report(outdir: Path, pixels) -> None:
    """Write report.html; a report that cannot be made is a warning, the tables stand."""
    from stischeck.errors import StischeckError
    from stischeck.report import write_report

    try:
        path = write_report(outdir, pixels=pixels)
    except StischeckError as err:
        print(f"stischeck: warning: no report.html: {' '.join(str(err).split())}", file=sys.stderr)
        return
    sys.stdout.write(f"  report: {path}\n")
