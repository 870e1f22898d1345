"""Record live calstis products as a truth folder in the corpus layout, with a manifest.

``record_truth`` runs cs0.e once per configuration on a copy of the raw file
(exactly as ``stischeck compare`` does), then writes, into a staging folder
beside the destination::

    <out>/manifest.json
    <out>/<rootname>_raw.fits.gz        the raw input, as given (gzip-compressed)
    <out>/oref/<file>.fits.gz           each reference file the raw header names
    <out>/<CONFIG>/<rootname>_flt.fits.gz, _crj.fits.gz, <rootname>.trl.gz

and moves it into place only when every run succeeded, so a failed record
never leaves a half-written truth. An existing truth is replaced only with
``force``; then `record_truth` reports what changed against it.
"""

import gzip
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from stischeck.errors import CalstisError, InputFileError
from stischeck.vocabulary import DEFAULT_TIMEOUT_S
from stischeck.vocabulary import rootname as rootname_of

__all__ = ["RecordResult", "record_truth", "changes_against"]


@dataclass(frozen=True)
class RecordResult:
    """What `record_truth` wrote.

    Attributes
    ----------
    out : Path
        The truth folder.
    manifest : dict
        The manifest written.
    changes : list of str
        One line per change against the truth it replaced (empty for a new one).
    """

    out: Path
    manifest: dict
    changes: list


def _gzip_copy(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` gzip-compressed (already-compressed files byte for byte).

    The gzip header carries no file name or time, so recording the same
    products twice gives the same bytes.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as f:
        is_gzip = f.read(2) == b"\x1f\x8b"
    if is_gzip:
        shutil.copyfile(src, dest)
        return
    with src.open("rb") as fin, dest.open("wb") as raw_out:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw_out, mtime=0) as fout:
            shutil.copyfileobj(fin, fout)


def _gz_name(path: Path) -> str:
    return path.name if path.name.endswith(".gz") else path.name + ".gz"


def _describe_product(path: Path, stored: str) -> dict:
    from astropy.io import fits

    from stischeck.inputs import sha256_uncompressed

    with fits.open(path) as hdul:
        header = hdul[0].header
        extensions = []
        for hdu in hdul[1:]:
            h = hdu.header
            if int(h.get("NAXIS", 0)) == 0:
                shape = [int(h.get("NPIX2", 0)), int(h.get("NPIX1", 0))]
            else:
                shape = list(hdu.data.shape)
            bitpix = int(h.get("BITPIX", 0))
            extensions.append(
                dict(
                    extname=str(h.get("EXTNAME", "")).strip(),
                    extver=int(h.get("EXTVER", 1)),
                    shape=shape,
                    data={-32: ">f4", 16: ">i2", -64: ">f8", 32: ">i4"}.get(bitpix, str(bitpix)),
                    null=int(h.get("NAXIS", 0)) == 0,
                )
            )
        switches = {
            k: str(header[k]).strip()
            for k in header
            if k.endswith("CORR") and isinstance(header[k], str)
        }
    return dict(
        file=stored,
        nimsets=sum(1 for e in extensions if e["extname"] == "SCI"),
        extensions=extensions,
        switches=switches,
        sha256_uncompressed=sha256_uncompressed(path),
    )


_INVOCATION = {
    "cs0": "cs0.e <rootname>_raw.fits out/ on a copy of the raw file carrying "
    "the configuration's switches, environment oref=<oref>/, one work folder per "
    "configuration",
    "stistools": "stistools.calstis.calstis('<rootname>_raw.fits', outroot='out/', "
    "trailer='cs0.trl') in a child Python, cs0.e first on PATH, on a copy of the raw file "
    "carrying the configuration's switches, environment oref=<oref>/, one work folder per "
    "configuration",
}


def record_truth(
    raw: Path,
    out: Path,
    *,
    configurations: list,
    calstis: Path,
    oref: Path | None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    force: bool = False,
    jobs: int = 1,
    runner: str = "cs0",
) -> RecordResult:
    """
    Run cs0.e over ``configurations`` and write a truth folder at ``out``.

    Parameters
    ----------
    raw : Path
        The STIS CCD raw file (``.fits`` or ``.fits.gz``); only read.
    out : Path
        Destination folder. It must not exist (or be empty) unless ``force``.
    configurations : list of Configuration
        What to run (the all-OMIT rung, which writes nothing, is recorded as
        such with no products).
    calstis : Path
        The cs0.e executable.
    oref : Path or None
        Reference-file folder (None: found by `stischeck.inputs.find_reference_folder`).
    timeout_s : float
        Per run.
    force : bool
        Replace an existing truth, reporting what changed.
    jobs : int
        Configurations run in parallel.
    runner : str
        ``"cs0"`` (cs0.e directly) or ``"stistools"`` (through
        ``stistools.calstis.calstis`` in a child process); the manifest says which.

    Returns
    -------
    RecordResult

    Raises
    ------
    InputFileError
        ``out`` exists and ``force`` is not set; a reference file a configuration
        needs is missing (`stischeck.inputs.check_references`).
    CalstisError
        A cs0.e run failed, crashed, timed out or wrote nothing; nothing is written.
    """
    import json
    from concurrent.futures import ThreadPoolExecutor

    from astropy.io import fits

    from stischeck import __version__
    from stischeck.environment import calstis_version, library_versions
    from stischeck.inputs import (
        ReferenceFolder,
        check_references,
        find_reference_folder,
        reference_files,
        sha256_uncompressed,
    )
    from stischeck.runners.outcome import prepare_input
    from stischeck.runners.stistools_wrapper import runner_function
    from stischeck.truth import MANIFEST

    raw, out = Path(raw), Path(out)
    if out.exists() and not out.is_dir():
        raise InputFileError(f"{out}: exists and is not a folder")
    existing = out.is_dir() and any(out.iterdir())
    if existing and not force:
        raise InputFileError(f"{out}: truth folder already exists (use --force to replace it)")
    header = fits.getheader(raw, 0)
    rootname = rootname_of(header, raw)
    folder = (
        ReferenceFolder(Path(oref).resolve(), "oref")
        if oref is not None
        else find_reference_folder(raw, header)
    )
    check_references(raw, header, configurations, folder)
    # Files only switches no configuration runs would need may be absent; the rest are kept.
    refs = {k: v for k, v in reference_files(raw, header, folder.path).items() if v.get("path")}
    oref_dir = folder.path
    execute = runner_function(runner)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.record-", dir=out.parent))
    try:
        work = staging / "_work"

        def one(config):
            d = work / config.name
            copy = prepare_input(raw, d, config.switch_dict, name=f"{rootname}_raw.fits")
            return config, execute(
                calstis,
                copy,
                oref_dir,
                d,
                timeout_s=timeout_s,
                expects_products=config.expects_products,
                performed=config.performed,
            )

        with ThreadPoolExecutor(max(1, jobs)) as pool:
            outcomes = list(pool.map(one, configurations))
        failed = [(c, o) for c, o in outcomes if not o.ok]
        if failed:
            c, o = failed[0]
            raise CalstisError(f"{o.message} (configuration {c.name}); nothing recorded")

        steps = []
        for config, outcome in outcomes:
            folder = staging / config.name
            folder.mkdir(parents=True, exist_ok=True)
            products = []
            for suffix, path in sorted(outcome.products.items()):
                stored = folder / f"{rootname}_{suffix}.fits.gz"
                _gzip_copy(path, stored)
                products.append(_describe_product(path, f"{config.name}/{stored.name}"))
            trailer = None
            if outcome.trailer and outcome.trailer.exists():
                _gzip_copy(outcome.trailer, folder / f"{rootname}.trl.gz")
                trailer = f"{config.name}/{rootname}.trl.gz"
            steps.append(
                dict(
                    step=config.name,
                    switches=config.switch_dict,
                    perform=list(config.performed),
                    exit_status=outcome.returncode,
                    status=outcome.status,
                    wall_s=round(outcome.wall_s, 3),
                    peak_rss_mib=None
                    if outcome.peak_rss_mib is None
                    else round(outcome.peak_rss_mib, 1),
                    products=products,
                    trailer=trailer,
                )
            )
        shutil.rmtree(work)

        raw_stored = f"{rootname}_raw.fits.gz"
        _gzip_copy(raw, staging / raw_stored)
        ref_entries = {}
        for key, ref in refs.items():
            src = Path(ref["path"])
            dest = staging / "oref" / _gz_name(src)
            if not dest.exists():
                _gzip_copy(src, dest)
            ref_entries[key] = dict(
                name=ref["name"],
                file=f"oref/{dest.name}",
                sha256_uncompressed=sha256_uncompressed(src),
            )
        manifest = dict(
            created_by=f"stischeck {__version__} record",
            rootname=rootname,
            calstis=dict(
                program="cs0.e (hstcal)",
                path=str(calstis),
                version=calstis_version(calstis),
                invocation=_INVOCATION[runner],
                runner=runner,
            ),
            libraries=library_versions(),
            raw=dict(
                file=raw_stored,
                source=str(raw),
                sha256_uncompressed=sha256_uncompressed(raw),
                nimsets=max(1, int(header.get("NEXTEND", 3)) // 3),
            ),
            reference_files=ref_entries,
            sequence=[c.name for c in configurations],
            steps=steps,
        )
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")

        changes = changes_against(out, staging) if existing else []
        if existing:
            backup = out.with_name(f".{out.name}.replaced")
            if backup.exists():
                shutil.rmtree(backup)
            out.rename(backup)
            staging.rename(out)
            shutil.rmtree(backup)
        else:
            if out.exists():
                out.rmdir()  # empty
            staging.rename(out)
        return RecordResult(out, manifest, changes)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def changes_against(old: Path, new: Path) -> list:
    """
    What differs between two truth folders: products added or removed, and products that differ.

    Each line names the configuration and product; a product that differs
    carries the first lines of its ``stischeck diff`` verdict (extension,
    imset, pixels, DQ bits), with the two sides named "old truth" and "new run".
    """
    from stischeck.diff import diff_products
    from stischeck.truth import load_truth

    old_t, new_t = load_truth(old), load_truth(new)
    rootname = new_t.manifest.get("rootname") or old_t.manifest.get("rootname") or ""
    names = [*new_t.manifest.get("sequence", [])]
    names += [n for n in old_t.manifest.get("sequence", []) if n not in names]
    lines = []
    for name in names:
        a = old_t.products(name, rootname)
        b = new_t.products(name, rootname)
        for suffix in sorted(set(a) | set(b)):
            if suffix not in a:
                lines.append(f"{name} _{suffix}: new product")
            elif suffix not in b:
                lines.append(f"{name} _{suffix}: no longer written")
            else:
                result = diff_products(a[suffix], b[suffix], step=name)
                if result.verdict != "identical":
                    worst = result.findings(labels=("old truth", "new run"))[:3]
                    what = "; ".join(f.text for f in worst) if worst else result.verdict
                    lines.append(f"{name} _{suffix}: {result.verdict}: {what}")
    old_switches, new_switches = old_t.step_switches, new_t.step_switches
    for name in names:
        if (
            name in old_switches
            and name in new_switches
            and old_switches[name] != new_switches[name]
        ):
            changed = sorted(
                k
                for k in set(old_switches[name]) | set(new_switches[name])
                if old_switches[name].get(k) != new_switches[name].get(k)
            )
            lines.append(f"{name}: switches changed ({', '.join(changed)})")
    v_old, v_new = old_t.calstis_version, new_t.calstis_version
    if v_old != v_new:
        lines.insert(0, f"calstis version: {v_old} -> {v_new}")
    return lines
