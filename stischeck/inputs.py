"""The user's inputs as files: the reference folder, the reference files, checksums.

One rule finds the folder of ``oref$`` reference files for every command
(`find_reference_folder`): ``--oref DIR``, then the ``oref`` environment
variable, then an ``oref/`` folder beside the raw file, then a CRDS cache
(``$CRDS_PATH/references/hst/``, or its ``stis/`` folder). The first that
applies is the folder; each command passes it explicitly to both sides (cs0.e
through the ``oref`` environment variable, the reference through its
``oref_dir``), so both read the same files. `check_references` then finds,
before anything runs, every file cs0.e will ask for under the switches the
configurations run, and `refuse_target_acquisition` stops files calstis does
not calibrate. Also used for provenance (compare), for the truth manifest
(record) and for telling whether inputs changed since a previous run.
Everything here only reads.
"""

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

from stischeck.vocabulary import REFERENCE_KEYWORDS, rootname

__all__ = [
    "REFERENCE_KEYWORDS",
    "REFERENCE_RULE",
    "OWN_SWITCHES",
    "ReferenceFolder",
    "find_reference_folder",
    "find_reference",
    "required_references",
    "check_references",
    "target_acquisition",
    "refuse_target_acquisition",
    "check_truth",
    "sha256",
    "sha256_uncompressed",
    "reference_files",
    "relative_to_folder",
    "read_raw_header",
]


def _digest(stream) -> str:
    import hashlib  # here: OpenSSL takes 3.6 MB and 3 ms, and the reference command never hashes

    h = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as stored."""
    with Path(path).open("rb") as f:
        return _digest(f)


def sha256_uncompressed(path: Path) -> str:
    """SHA-256 of a file's content, gunzipped first when it is gzip-compressed."""
    path = Path(path)
    with path.open("rb") as f:
        is_gzip = f.read(2) == b"\x1f\x8b"
    with (gzip.open if is_gzip else open)(path, "rb") as f:
        return _digest(f)


def reference_files(raw: Path, header, oref: Path | None, *, digests: bool = True) -> dict:
    """
    The reference files a raw primary header names, found in the reference folder.

    Parameters
    ----------
    raw : Path
        The raw file (for messages).
    header : astropy.io.fits.Header
        Its primary header.
    oref : Path or None
        The reference folder (`find_reference_folder`); None: found by the rule.
    digests : bool
        Hash each file found (provenance); False for callers that only need
        where the files are (hashing the bias, dark and flats of a full-frame
        exposure costs about 25 ms).

    Returns
    -------
    dict
        Keyword -> ``{"name", "path", "sha256"}`` (no ``"sha256"`` without
        ``digests``), or ``{"name", "path": None,
        "error"}`` for a file that is not there (a file no configuration needs
        may be absent). Blank and ``N/A`` names are left out.
    """
    if oref is None:
        oref = find_reference_folder(raw, header).path
    refs = {}
    for key in REFERENCE_KEYWORDS:
        name = str(header.get(key, "")).strip()
        if _is_blank(name):
            continue
        path = find_reference(name, oref)
        if path is not None:
            refs[key] = dict(name=name, path=str(path))
            if digests:
                refs[key]["sha256"] = sha256(path)
        else:
            where = f"looked in {oref}/" if oref is not None else "no reference folder"
            refs[key] = dict(name=name, path=None, error=f"{_base(name)}: not found ({where})")
    return refs


#: The rule, as each command's --help and the README say it.
REFERENCE_RULE = (
    "--oref DIR, else $oref, else the oref/ folder beside the raw file, else the CRDS cache "
    "$CRDS_PATH/references/hst/; names as .fits or .fits.gz"
)


@dataclass(frozen=True)
class ReferenceFolder:
    """Where the ``oref$`` reference files of one raw file are.

    Attributes
    ----------
    path : Path or None
        The folder (absolute), or None when no place applies.
    origin : str
        Which place of the rule it is (``--oref``, ``$oref``, ``oref/ beside the
        raw file``, ``$CRDS_PATH``), or what was tried when none applies.
    """

    path: Path | None
    origin: str

    def describe(self) -> str:
        """``/x/oref/ (--oref)``: for messages."""
        if self.path is None:
            return f"no reference folder ({self.origin})"
        return f"{self.path}/ ({self.origin})"


def _is_blank(name) -> bool:
    """An absent, blank or ``N/A`` reference name (calstis's GotFileName)."""
    return name is None or str(name).strip() == "" or str(name).strip().upper() == "N/A"


def _base(name: str) -> str:
    return name.split("$", 1)[1] if "$" in name else name


def find_reference(name: str, folder: Path | None) -> Path | None:
    """
    The file a header reference name means, as both sides open it; None if it is not there.

    ``oref$x.fits`` is ``folder/x.fits`` or ``folder/x.fits.gz`` (cfitsio, and so
    cs0.e, opens the ``.gz`` when the plain file is absent; so does the
    reference). Another ``prefix$`` is looked up in that environment variable;
    a name without ``$`` is a path.
    """
    if "$" in name:
        prefix, base = name.split("$", 1)
        if prefix == "oref":
            if folder is None:
                return None
            where = Path(folder)
        elif os.environ.get(prefix):
            where = Path(os.environ[prefix])
        else:
            return None
        candidate = where / base
    else:
        candidate = Path(name)
    for path in (candidate, candidate.with_name(candidate.name + ".gz")):
        if path.is_file():
            return path.resolve()
    return None


def find_reference_folder(raw: Path, header=None, oref=None, *, option: str = "--oref"):
    """
    The folder of ``oref$`` reference files for ``raw``, by the one rule of every command.

    Parameters
    ----------
    raw : Path
        The raw file.
    header : mapping, optional
        Its primary header: in a CRDS cache, the folder that holds its CCDTAB
        is taken (``references/hst/`` or CRDS's per-instrument ``hst/stis/``).
    oref : path-like, optional
        The folder the user gave (``--oref``, a CSV ``oref`` column, ``oref=``).
    option : str
        How the user gave it, for messages.

    Returns
    -------
    ReferenceFolder
        ``--oref``, else ``$oref``, else ``oref/`` beside the raw file, else
        ``$CRDS_PATH/references/hst/``; ``path`` None when none applies.

    Raises
    ------
    InputFileError
        The folder given, or ``$oref``, is not a directory.
    """
    from stischeck.errors import InputFileError

    if oref is not None and str(oref) != "":
        folder = Path(oref)
        if not folder.is_dir():
            raise InputFileError(f"{folder}: {option} is not a directory")
        return ReferenceFolder(folder.resolve(), option)
    env = os.environ.get("oref", "").strip()
    if env:
        folder = Path(env)
        if not folder.is_dir():
            raise InputFileError(f"{env}: the oref environment variable is not a directory")
        return ReferenceFolder(folder.resolve(), "$oref")
    beside = Path(raw).resolve().parent / "oref"
    if beside.is_dir():
        return ReferenceFolder(beside, "oref/ beside the raw file")
    crds = os.environ.get("CRDS_PATH", "").strip()
    if crds:
        root = Path(crds) / "references" / "hst"
        folders = [d for d in (root, root / "stis") if d.is_dir()]
        ccdtab = str(header.get("CCDTAB", "")) if header is not None else ""
        holding = [d for d in folders if not _is_blank(ccdtab) and find_reference(ccdtab, d)]
        chosen = (holding or folders or [root])[0]
        return ReferenceFolder(chosen.resolve() if chosen.is_dir() else chosen, "$CRDS_PATH")
    return ReferenceFolder(
        None,
        f"no {option}, no $oref, no oref/ beside {Path(raw).name}, no $CRDS_PATH",
    )


#: Name of the configuration of a raw header's own switches (``stischeck reference``).
OWN_SWITCHES = "(header)"

#: Reference files cs0.e asks for per switch (hstcal lib/cs0/sciflags.c), CCD 2-D steps.
_BY_SWITCH = (
    ("DQICORR", ("BPIXTAB",)),
    ("ATODCORR", ("ATODTAB",)),
    ("BIASCORR", ("BIASFILE",)),
    ("DARKCORR", ("DARKFILE",)),
    ("FLATCORR", ("PFLTFILE", "DFLTFILE", "LFLTFILE")),
    ("SHADCORR", ("SHADFILE",)),
)
#: May be blank or N/A (lib/cs0/refexist.c SpecialCheck): BPIXTAB for the CCD, each flat.
_MAY_BE_BLANK = ("BPIXTAB", "PFLTFILE", "DFLTFILE", "LFLTFILE")


def required_references(header, configurations) -> dict:
    """
    The reference keywords cs0.e requires under the configurations' switches.

    Found with cs0.e 3.5.0 and read in hstcal ``lib/cs0/sciflags.c`` and
    ``refexist.c``: CCDTAB always (for the CCD, even with every switch OMIT:
    cs0.e exits 2 without it); BPIXTAB for DQICORR; CRREJTAB for CRCORR (or
    RPTCORR) when the file has two imsets or more (else calstis omits CRCORR);
    BIASFILE, DARKFILE for their switch; PFLTFILE, DFLTFILE, LFLTFILE for
    FLATCORR; ATODTAB, SHADFILE for theirs. BPIXTAB and each flat may be blank
    or N/A (not all three flats); every other name must be given.

    Parameters
    ----------
    header : mapping
        The raw primary header (NEXTEND for the number of imsets).
    configurations : list of Configuration
        What will run.

    Returns
    -------
    dict
        Keyword -> the configuration names needing it, in calstis's order.
    """
    nimages = int(header.get("NEXTEND", 3) or 0) // 3
    needed: dict = {}

    def need(key, name):
        needed.setdefault(key, [])
        if name not in needed[key]:
            needed[key].append(name)

    for config in configurations:
        on = set(config.performed)
        need("CCDTAB", config.name)
        for switch, keys in _BY_SWITCH[:1]:
            if switch in on:
                for key in keys:
                    need(key, config.name)
        if ("CRCORR" in on or "RPTCORR" in on) and nimages >= 2:
            need("CRREJTAB", config.name)
        for switch, keys in _BY_SWITCH[1:]:
            if switch in on:
                for key in keys:
                    need(key, config.name)
    return needed


def check_references(
    raw: Path, header, configurations, folder: ReferenceFolder, *, damage: bool = True
) -> dict:
    """
    Find every reference file the configurations need, before anything runs; none damaged.

    Parameters
    ----------
    raw : Path
        The raw file (for messages).
    header : mapping
        Its primary header.
    configurations : list of Configuration
        What will run; files only switches no configuration runs need are not required.
    folder : ReferenceFolder
        From `find_reference_folder`.
    damage : bool
        Also refuse a damaged file the configurations read (`stischeck.validate.
        check_references`: NaN or infinite pixels, NaN in a CCDTAB column, a
        broken structure), so every command applies one rule; compare checks
        that itself, to add what calstis does on the file.

    Returns
    -------
    dict
        Keyword -> the file found.

    Raises
    ------
    InputFileError
        One line naming the first file that is not there, the keyword that asks
        for it, the raw file, the configurations needing it and where it was
        looked for (and where else it is, when a later place of the rule holds it).
    """
    from stischeck.errors import InputFileError

    raw = Path(raw)
    needed = required_references(header, configurations)
    found = {}

    def which(configs):
        if configs == [OWN_SWITCHES]:
            return "the switches in its header"
        shown = ", ".join(configs[:3]) + (
            f" and {len(configs) - 3} more" if len(configs) > 3 else ""
        )
        return f"configuration{'s' if len(configs) > 1 else ''} {shown}"

    flats = [k for k in ("PFLTFILE", "DFLTFILE", "LFLTFILE") if k in needed]
    if flats and all(_is_blank(header.get(k)) for k in flats):
        raise InputFileError(
            f"{raw}: PFLTFILE, DFLTFILE and LFLTFILE are all blank or N/A, but FLATCORR needs "
            f"at least one ({which(needed['PFLTFILE'])})"
        )
    for key, configs in needed.items():
        name = header.get(key)
        if _is_blank(name):
            if key in _MAY_BE_BLANK:
                continue
            shown = "absent" if name is None else repr(str(name).strip())
            raise InputFileError(
                f"{raw}: {key} is {shown}, but {which(configs)} "
                f"need{'s' if len(configs) == 1 else ''} it (cs0.e stops: reference file missing)"
            )
        name = str(name).strip()
        path = find_reference(name, folder.path)
        if path is not None:
            found[key] = path
            continue
        base = _base(name)
        if name.startswith("oref$"):
            if folder.path is None:
                where = f"no reference folder to look in: {folder.origin}"
            else:
                where = f"looked in {folder.describe()}, as {base} and {base}.gz"
        elif "$" in name:
            where = f"looked in ${name.split('$', 1)[0]}"
        else:
            where = "looked for it as a path"
        hint = _elsewhere(raw, name, folder)
        raise InputFileError(
            f"{base}: reference file not found ({key} in {raw}, needed by {which(configs)}; "
            f"{where}){hint}"
        )
    if damage:
        from stischeck.validate import check_references as refuse_damaged

        refuse_damaged(raw, folder.path, switches={s for c in configurations for s in c.performed})
    return found


def _elsewhere(raw: Path, name: str, folder: ReferenceFolder) -> str:
    """'; it is in DIR (...): give --oref DIR' when another place of the rule holds the file."""
    if not name.startswith("oref$") or folder.origin == "--baseline-oref":
        return ""  # reference set A is the user's choice: no other folder stands in for it
    places = []
    env = os.environ.get("oref", "").strip()
    if env:
        places.append(Path(env))
    places.append(Path(raw).resolve().parent / "oref")
    crds = os.environ.get("CRDS_PATH", "").strip()
    if crds:
        root = Path(crds) / "references" / "hst"
        places += [root, root / "stis"]
    for place in places:
        if place.is_dir() and (folder.path is None or place.resolve() != folder.path):
            if find_reference(name, place) is not None:
                return f"; it is in {place.resolve()}/: give --oref {place.resolve()}"
    return ""


#: OBSMODE values of target acquisitions (real STIS CCD files).
_ACQ_MODES = ("ACQ", "ACQ/PEAK")


def target_acquisition(header) -> str | None:
    """OBSMODE (``ACQ`` or ``ACQ/PEAK``) when the raw file is a target acquisition, else None."""
    mode = str(header.get("OBSMODE", "")).strip().upper()
    return mode if mode in _ACQ_MODES else None


def refuse_target_acquisition(raw: Path, header, chosen: bool) -> None:
    """
    Stop a default comparison of a target acquisition, in one line, before anything runs.

    What cs0.e 3.5.0 does with the eleven real ACQ and ACQ/PEAK files (every
    calibration switch OMIT, as the pipeline leaves them): it prints "No
    calibration switch was set to PERFORM", writes no product and exits 0
    (exit 2 when the CCDTAB is missing, which it opens all the same). There is
    no calstis product to compare, so the default ladder (which sets switches
    the pipeline never sets on these files) is not run; switches chosen with
    ``--steps``, ``--only`` or ``--switches`` run as for any file (cs0.e then
    calibrates the images like subarrays: BLEVCORR falls back to the CCDTAB
    bias, "Image size is too small").

    Parameters
    ----------
    raw : Path
        The raw file.
    header : mapping
        Its primary header.
    chosen : bool
        The user chose the switches (``--steps``, ``--only``, ``--switches``).

    Raises
    ------
    InputFileError
        A target acquisition and no switches chosen.
    """
    from stischeck.config import CALIBRATION_SWITCHES
    from stischeck.errors import InputFileError

    mode = target_acquisition(header)
    if mode is None or chosen:
        return
    on = [k for k in CALIBRATION_SWITCHES if str(header.get(k, "")).strip().upper() == "PERFORM"]
    what = "every switch OMIT: cs0.e writes no product" if not on else f"{', '.join(on)} PERFORM"
    raise InputFileError(
        f"{Path(raw).name}: a target acquisition (OBSMODE = {mode!r}); the pipeline does not "
        f"calibrate it ({what}), so nothing is compared (choose switches with --steps, --only "
        "or --switches to compare them anyway)"
    )


def check_truth(truth: Path, raw: Path, header) -> None:
    """
    Check a truth folder before anything runs: its manifest, its rootname, its products.

    Parameters
    ----------
    truth : Path
        The folder (``--truth``, a CSV ``truth`` column, a corpus case).
    raw : Path
        The raw file to be compared with it.
    header : mapping
        The raw primary header (ROOTNAME).

    Raises
    ------
    InputFileError
        One line: the folder is missing, has no readable ``manifest.json``, is
        another data set's (its rootname is not the raw file's), or lacks a
        product its manifest lists.
    """
    import json

    from stischeck.errors import InputFileError

    truth = Path(truth)
    if not truth.is_dir():
        raise InputFileError(f"{truth}: truth folder not found")
    path = truth / "manifest.json"
    if not path.is_file():
        raise InputFileError(f"{truth}: not a truth folder (no manifest.json)")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise InputFileError(f"{path}: not a readable truth manifest ({err})") from err
    if not isinstance(manifest, dict):
        raise InputFileError(f"{path}: not a truth manifest (not a JSON object)")
    recorded = manifest.get("rootname")
    if not recorded and isinstance(manifest.get("params"), dict):
        recorded = manifest["params"].get("rootname")  # the corpus's manifests
    if not recorded and isinstance(manifest.get("raw"), dict):
        recorded = str(manifest["raw"].get("file", "")).split("_raw.fits")[0]
    raw_root = rootname(header, raw)
    if not recorded:
        raise InputFileError(f"{path}: the truth manifest names no rootname")
    if str(recorded).strip().lower() != raw_root:
        raise InputFileError(
            f"{truth}: the truth of another data set (manifest rootname {recorded!r}, "
            f"{Path(raw).name} has ROOTNAME {raw_root!r})"
        )
    steps = manifest.get("steps", [])
    for entry in steps if isinstance(steps, list) else []:
        for product in entry.get("products", []) if isinstance(entry, dict) else []:
            name = product.get("file") if isinstance(product, dict) else None
            if not name:
                continue
            stored = truth / name
            plain = stored.with_name(stored.name[:-3]) if stored.name.endswith(".gz") else stored
            if not (stored.is_file() or plain.is_file() or Path(f"{plain}.gz").is_file()):
                raise InputFileError(f"{stored}: product listed in {path} not found")


def relative_to_folder(path, folder: Path) -> str:
    """
    ``path`` relative to ``folder`` when it lies inside it, else the absolute path.

    Output folders store paths this way so that they stay valid when moved or
    attached to a ticket.
    """
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path(folder).resolve()))
    except ValueError:
        return str(resolved)


def read_raw_header(raw: Path):
    """
    The primary header of a STIS CCD raw file (``.fits`` or ``.fits.gz``), as its cards.

    Returns a `stischeck.fits.cards.PrimaryCards` (``.get(key, default)``),
    read without astropy so that a comparison can start its runs at once.

    Raises
    ------
    InputFileError
        One line naming the file: missing, not FITS, or not a STIS CCD exposure.
    """
    from stischeck.errors import InputFileError
    from stischeck.fits.cards import read_primary_cards

    header = read_primary_cards(
        Path(raw), error_cls=InputFileError, what="raw file", keep_rest=False
    )
    instrument = str(header.get("INSTRUME", "STIS")).strip().upper()
    detector = str(header.get("DETECTOR", "")).strip().upper()
    if instrument != "STIS" or detector != "CCD":
        raise InputFileError(
            f"{raw}: not a STIS CCD raw file (INSTRUME = {instrument!r}, DETECTOR = {detector!r})"
        )
    return header
