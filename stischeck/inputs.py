"""The user's inputs as files: checksums and the reference files a raw header names.

Used for provenance (compare), for the truth manifest (record) and for telling
whether inputs changed since a previous run. Everything here only reads.
"""

import gzip
import hashlib
from pathlib import Path

__all__ = [
    "REFERENCE_KEYWORDS",
    "sha256",
    "sha256_uncompressed",
    "reference_files",
    "relative_to_folder",
    "read_raw_header",
]

#: Reference-file keywords of the 2-D CCD steps (spec §1.3), in the raw primary header.
REFERENCE_KEYWORDS = (
    "CCDTAB",
    "BPIXTAB",
    "CRREJTAB",
    "BIASFILE",
    "DARKFILE",
    "PFLTFILE",
    "DFLTFILE",
    "LFLTFILE",
    "ATODTAB",
    "SHADFILE",
    "IMPHTTAB",
    "TDSTAB",
)


def _digest(stream) -> str:
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


def reference_files(raw: Path, header, oref: Path | None) -> dict:
    """
    The reference files a raw primary header names, resolved as the reference resolves them.

    Parameters
    ----------
    raw : Path
        The raw file (for messages).
    header : astropy.io.fits.Header
        Its primary header.
    oref : Path or None
        ``--oref`` directory; None means the ``oref`` environment variable or CRDS.

    Returns
    -------
    dict
        Keyword -> ``{"name", "path", "sha256"}``, or ``{"name", "path": None,
        "error"}`` for a file that cannot be found. Blank and ``N/A`` names are
        left out.
    """
    from reference_impl.io import reffiles

    refs = {}
    for key in REFERENCE_KEYWORDS:
        name = str(header.get(key, "")).strip()
        if reffiles.is_blank_name(name):
            continue
        try:
            path = reffiles.resolve_reference(name, keyword=key, raw_name=str(raw), oref_dir=oref)
            refs[key] = dict(name=name, path=str(path), sha256=sha256(path))
        except Exception as err:  # noqa: BLE001 - recorded, not raised: calstis reports it too
            refs[key] = dict(name=name, path=None, error=" ".join(str(err).split()))
    return refs


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

    Returns a `stischeck.fitscards.PrimaryCards` (``.get(key, default)``),
    read without astropy so that a comparison can start its runs at once.

    Raises
    ------
    InputFileError
        One line naming the file: missing, not FITS, or not a STIS CCD exposure.
    """
    from stischeck.errors import InputFileError
    from stischeck.fitscards import read_primary_cards

    header = read_primary_cards(Path(raw), error_cls=InputFileError, what="raw file")
    instrument = str(header.get("INSTRUME", "STIS")).strip().upper()
    detector = str(header.get("DETECTOR", "")).strip().upper()
    if instrument != "STIS" or detector != "CCD":
        raise InputFileError(
            f"{raw}: not a STIS CCD raw file (INSTRUME = {instrument!r}, DETECTOR = {detector!r})"
        )
    return header
