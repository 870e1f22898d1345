"""``stischeck batch INPUTS...``: ``stischeck compare`` over many data sets, on Dask distributed."""

import os
import signal
import sys
from pathlib import Path

from stischeck.commands import options
from stischeck.commands.selection import selection
from stischeck.inputs import REFERENCE_RULE

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]

#: Verdict labels, worst first, as the summary line lists them.
_ORDER = ("could not run", "error", "differ", "agree")


HELP = "compare many data sets in parallel (Dask), resumable, with an index page"
DESCRIPTION = (
    "Run the comparison of `stischeck compare` on every data set given, in "
    "parallel on a Dask cluster (a local one by default), one compare output folder per "
    "data set in OUTDIR/<dataset>/, plus OUTDIR/verdicts.csv (every data set's rows), "
    "datasets.csv, batch.json and index.html. Inputs: raw files, folders (searched for "
    "*_raw.fits[.gz]) and CSV manifests "
    "(columns raw, oref, truth, dataset; paths relative to the CSV). A folder laid out like "
    "the corpus (manifest.json and step folders beside the raw file) is used as truth. "
    "Data sets whose outputs are complete and whose inputs and options are unchanged are "
    "not rerun (--force reruns them). Reference files (oref$name): a CSV oref column, else "
    f"{REFERENCE_RULE}. A data set whose reference files or truth folder do not fit, or a "
    "target acquisition (unless switches are chosen), is a row saying why. "
    "Exit 0 all agree, 1 some differ, 2 some could not run."
)


def add_arguments(p) -> None:
    """Register ``batch``'s arguments on its subparser ``p``."""
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="raw file, folder or CSV manifest")
    p.add_argument("--outdir", metavar="DIR", default="reports/batch", help="(default %(default)s)")
    options.add_oref_option(
        p,
        "folder of oref$ reference files for every data set (a CSV oref column wins; "
        "default: $oref, then the oref/ beside each raw file, then $CRDS_PATH/references/hst/)",
    )
    p.add_argument(
        "--no-truth", action="store_true", help="ignore corpus-like truth folders beside raw files"
    )
    options.add_comparison_options(p)
    p.add_argument(
        "--dataset-timeout",
        type=float,
        metavar="S",
        help="per data set, seconds; then its processes are killed (default 3 x --timeout)",
    )
    p.add_argument("--no-html", action="store_true", help="no report.html per data set")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help=f"local cluster: data sets at a time (default {os.cpu_count() or 1}, the cores)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="an existing Dask scheduler (tcp://host:8786, or a scheduler file); its workers "
        "need stischeck installed and the same paths",
    )
    p.add_argument("--force", action="store_true", help="rerun every data set")
    p.add_argument(
        "--probes",
        action="store_true",
        help="also run the known-issue probes (stischeck probes) through build B and, with "
        "--baseline-calstis, build A; their table goes on the index (probes/probes.html)",
    )


def _configurations(args) -> dict:
    """The configuration options, checked now so a typo fails before anything runs."""
    from stischeck import config as cfg

    chosen = selection(args)
    cfg.configurations_for(None, **chosen)
    return {key: value for key, value in chosen.items() if value}


def _calstis(args, datasets):
    from stischeck.environment import find_calstis
    from stischeck.errors import CalstisError, UsageError

    calstis = None
    if not args.no_calstis:
        calstis, where = find_calstis(args.calstis)
        if calstis is None and (args.calstis or any(d.truth is None for d in datasets)):
            raise CalstisError(
                f"cs0.e: {where}; install hstcal, or give truth folders (and --no-calstis)"
            )
        if calstis is not None:
            calstis = calstis.resolve()
    if calstis is None:
        lacking = [d for d in datasets if d.truth is None]
        if lacking:
            raise UsageError(
                f"{lacking[0].raw}: nothing to compare the reference with (no cs0.e, no truth "
                f"folder){f' and {len(lacking) - 1} more' if len(lacking) > 1 else ''}"
            )
    return calstis


def _baseline(args, calstis) -> dict:
    """`options.baseline_settings`, once for every data set; build A's path resolved.

    Reference set A is one folder for all data sets (as a CRDS cache is); a
    data set whose files it lacks is that data set's one-line error row.
    """
    settings = options.baseline_settings(args, calstis)
    if settings["baseline_calstis"] is not None:
        settings["baseline_calstis"] = settings["baseline_calstis"].resolve()
    return settings


def run(args) -> int:
    """Run the batch; print a line per data set and a summary; return 0, 1 or 2."""
    from stischeck.batch.engine import BatchSettings, check_output_folders, run_batch
    from stischeck.batch.inputs import resolve_inputs
    from stischeck.diff.policy import load_policy
    from stischeck.errors import InputFileError, UsageError

    for name, value in (("--timeout", args.timeout), ("--dataset-timeout", args.dataset_timeout)):
        if value is not None and not value > 0:
            raise UsageError(f"{name} must be a positive number of seconds")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    outdir = Path(args.outdir)
    if outdir.exists() and not outdir.is_dir():
        raise InputFileError(f"{outdir}: --outdir exists and is not a directory")
    oref = Path(args.oref) if args.oref else None
    if oref is not None and not oref.is_dir():
        raise InputFileError(f"{oref}: --oref is not a directory")
    configurations = _configurations(args)
    policy = None
    if args.policy:
        policy = Path(args.policy).resolve()
        load_policy(policy)
    datasets = resolve_inputs(args.inputs, oref=oref, use_truth=not args.no_truth, skip=outdir)
    check_output_folders(datasets, outdir)
    calstis = _calstis(args, datasets)
    baseline = _baseline(args, calstis)
    settings = BatchSettings(
        datasets=datasets,
        outdir=outdir,
        calstis=calstis,
        configurations=configurations,
        policy=policy,
        timeout_s=args.timeout,
        dataset_timeout_s=args.dataset_timeout or 3 * args.timeout,
        steplocal=args.steplocal,
        html=not args.no_html,
        workers=args.workers or min(os.cpu_count() or 1, len(datasets)),
        scheduler=args.scheduler,
        force=args.force,
        progress=sys.stderr.isatty(),
        runner=args.runner,
        probes=args.probes,
        **baseline,
    )
    # A batch stopped by SIGTERM stops its data sets' processes, as after Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    result = run_batch(settings, on_outcome=_print_outcome)
    counts: dict = {}
    for o in result.outcomes:
        label = o.verdict if o.status == "done" else "could not run"
        counts[label] = counts.get(label, 0) + 1
    reused = sum(o.reused for o in result.outcomes)
    n = len(result.outcomes)
    sys.stdout.write(
        f"stischeck batch: {n} data set{'' if n == 1 else 's'}: "
        + ", ".join(f"{counts[k]} {k}" for k in _ORDER if k in counts)
        + (f" ({reused} reused)" if reused else "")
        + f"; {result.wall_s:.1f} s, {result.cluster}\n"
        f"  outputs: {outdir / 'index.html'}\n"
    )
    if settings.two_builds:
        _print_certificate(outdir)
    return result.exit_code


def _print_certificate(outdir: Path) -> None:
    """The certificate's one line (batch.json), under the counts."""
    import json

    try:
        line = json.loads((outdir / "batch.json").read_text())["certificate"]["line"]
    except (OSError, ValueError, KeyError):
        return
    sys.stdout.write(f"  A/B: {line}\n")


def _interrupt(signum, frame):  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt


def _print_outcome(o) -> None:
    label = o.verdict if o.status == "done" else "could not run"
    if o.status != "done":
        note = o.message
    elif o.first_divergent:
        note = f"first divergent: {o.first_divergent}"
    else:
        note = ""
    when = "reused" if o.reused else f"{o.wall_s:.1f} s"
    sys.stdout.write(f"  {label:<13} {o.name}  ({when})" + (f"  {note}" if note else "") + "\n")
    sys.stdout.flush()
