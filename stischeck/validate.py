"""One validation pass over a raw file's structure and headers, before any step runs.

The harness's own check (the reference is the contestant and is not asked):
every command that runs a raw file (``reference``, ``compare``, ``record``,
``batch`` and the pytest plugin) calls `check_raw` first, and a damaged file is
one line naming the file, the HDU, the keyword and what is wrong::

    o1234_raw.fits[SCI,1]: LTV1 = 'abc' is not a number

What is checked is a small declarative schema of what the 2-D CCD steps read
(`PRIMARY_SCHEMA`, `SCI_SCHEMA`, the ERR/DQ rules), plus the structure: every
header ends, every data block is there, every card is printable ASCII and its
value parses, and each imset has SCI, ERR and DQ of one shape. The ranges are
those calstis 3.5.0 survives: on each of these inputs it segfaults (CCDGAIN
not 1/2/4/8, STATFLAG not logical, EXPTIME or SDQFLAGS out of range, a null DQ
PIXVALUE outside int16, an unparsable card that a step reads) or refuses
(NEXTEND below 3, CCDAMP not one amplifier, a missing OBSTYPE, ROOTNAME or
EXPSTART), so rejecting them first costs no agreement with calstis.
"""

import gzip
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stischeck.errors import InputFileError
from stischeck.fits.cards import parse_value, string_end

__all__ = [
    "Rule",
    "Violation",
    "validate_raw",
    "check_raw",
    "validate_fits",
    "check_fits",
    "check_oref",
    "validate_references",
    "check_references",
    "PRIMARY_SCHEMA",
    "SCI_SCHEMA",
]

BLOCK, CARD = 2880, 80


@dataclass(frozen=True)
class Rule:
    """What one keyword must be.

    Attributes
    ----------
    kind : str
        ``"number"`` (int or float), ``"int"`` (integer-valued), ``"string"``, ``"logical"``.
    required : bool
        Missing is a violation (else a missing keyword is the step's default).
    choices : tuple
        Allowed values (after stripping strings), empty for any.
    low, high : float or None
        Inclusive range for numbers.
    """

    kind: str
    required: bool = False
    choices: tuple = ()
    low: float | None = None
    high: float | None = None


_GAINS = (1, 2, 4, 8)
_SWITCH = Rule("string", choices=("PERFORM", "OMIT", "COMPLETE", "SKIPPED"))

#: Primary-header keywords the 2-D steps read (spec §1.2-1.3, getflags.c, getkeyinfo.c).
PRIMARY_SCHEMA = {
    "NEXTEND": Rule("int", required=True, low=3),
    "ROOTNAME": Rule("string", required=True),
    "OBSTYPE": Rule("string", required=True),
    "DETECTOR": Rule("string", required=True),
    "CCDAMP": Rule("string", choices=("A", "B", "C", "D")),
    "CCDGAIN": Rule("number", choices=_GAINS),
    "CCDOFFST": Rule("int", low=-(2**31), high=2**31 - 1),
    "BINAXIS1": Rule("int", choices=(1, 2, 4, 8)),
    "BINAXIS2": Rule("int", choices=(1, 2, 4, 8)),
    "CRSPLIT": Rule("int", low=0, high=10_000),
    "NRPTEXP": Rule("int", low=1, high=10_000),
    "STATFLAG": Rule("logical"),
    **{
        k: _SWITCH
        for k in ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "EXPSCORR", "DARKCORR", "FLATCORR")
    },
    **{
        k: Rule("string")
        for k in (
            "CCDTAB",
            "BPIXTAB",
            "CRREJTAB",
            "BIASFILE",
            "DARKFILE",
            "PFLTFILE",
            "DFLTFILE",
            "LFLTFILE",
        )
    },
}

#: SCI-extension keywords of each imset the steps read (spec §1.8).
SCI_SCHEMA = {
    "EXPTIME": Rule("number", required=True, low=0.0, high=1e8),
    "EXPSTART": Rule("number", required=True),
    "EXPEND": Rule("number"),
    "SDQFLAGS": Rule("int", low=0, high=32767),
    "LTV1": Rule("number", low=-1e6, high=1e6),
    "LTV2": Rule("number", low=-1e6, high=1e6),
    "LTM1_1": Rule("number", low=1e-6, high=1e6),
    "LTM2_2": Rule("number", low=1e-6, high=1e6),
    **{k: Rule("number") for k in ("CD1_1", "CD1_2", "CD2_1", "CD2_2", "CRPIX1", "CRPIX2")},
    **{k: Rule("number") for k in ("CRVAL1", "CRVAL2")},
    "OCCDHTAV": Rule("number", low=-1e6, high=1e6),
    "NCOMBINE": Rule("int", low=0, high=1_000_000),
}

#: Null ERR/DQ extensions: the constant and the size they stand for.
NULL_SCHEMA = {
    "ERR": {},  # its PIXVALUE is any float32: EXTENSION_SCHEMA
    "DQ": {"PIXVALUE": Rule("int", low=0, high=32767)},
}


#: Keywords calstis 3.5.0 reads (its Get*Key calls in pkg/stis), and the structural ones
#: every FITS reader needs: a value there that does not parse is a violation. A card
#: nobody reads (``PROPOSID = NAN``) is carried through, as calstis does.
READ_KEYWORDS = frozenset(
    """APERTURE ATODGAIN BIASFILE BINAXIS1 BINAXIS2 BPIXTAB CCDAMP CCDGAIN CCDOFFST CCDTAB
    CD1_1 CD1_2 CD2_1 CD2_2 CENWAVE CRPIX1 CRPIX2 CRREJTAB CRSPLIT CRVAL1 CRVAL2 DARKFILE
    DEC_TARG DETECTOR DFLTFILE DISPAXIS EXPEND EXPNAME EXPSTART EXPTIME FILTER IMSET_OK
    LFLTFILE LTM1_1 LTM2_2 LTV1 LTV2 MEANDARK NCOMBINE NEXTEND NRPTEXP OBSMODE OBSTYPE
    OCCDHTAV OPT_ELEM PFLTFILE RA_TARG READNSE ROOTNAME SDQFLAGS STATFLAG TARGNAME TEXPSTRT
    TEXPTIME ATODCORR BIASCORR BLEVCORR CRCORR DARKCORR DQICORR EXPSCORR FLATCORR PHOTCORR
    RPTCORR SHADCORR SIMPLE BITPIX NAXIS NAXIS1 NAXIS2 NAXIS3 EXTEND XTENSION PCOUNT GCOUNT
    EXTNAME EXTVER PIXVALUE NPIX1 NPIX2 TFIELDS INSTRUME FILENAME""".split()
) | {f"T{kind}{n}" for kind in ("FORM", "TYPE") for n in range(1, 100)}


#: Every extension: what a reader pairs extensions by, and a null extension's size.
EXTENSION_SCHEMA = {
    "EXTNAME": Rule("string"),
    "EXTVER": Rule("int", low=1, high=2**31 - 1),
    "NPIX1": Rule("int", low=0, high=2**31 - 1),
    "NPIX2": Rule("int", low=0, high=2**31 - 1),
    "PIXVALUE": Rule("number", low=-3.4e38, high=3.4e38),
}


@dataclass(frozen=True)
class Violation:
    """One thing wrong: where (``[SCI,1]``, ``[0]``), and the sentence."""

    where: str
    what: str

    def line(self, name: str) -> str:
        """``<name><where>: <what>``, the line the user reads."""
        return f"{name}{self.where}: {self.what}"


@dataclass
class _Hdu:
    index: int
    cards: dict  # keyword -> (value, raw value text) for the first occurrence
    bad: list  # violations found while reading the cards
    data_bytes: int
    offset: int
    data_offset: int = 0  # where its data start in the file (after the header's blocks)

    @property
    def extname(self) -> str:
        value = self.cards.get("EXTNAME", (None, ""))[0]
        return value.strip().upper() if isinstance(value, str) else ""

    @property
    def extver(self) -> int:
        value = self.cards.get("EXTVER", (1, ""))[0]
        return value if isinstance(value, int) and not isinstance(value, bool) else 1

    @property
    def where(self) -> str:
        if self.index == 0:
            return "[0]"
        return f"[{self.extname},{self.extver}]" if self.extname else f"[{self.index}]"


def _read_bytes(path: Path, what: str = "raw file") -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise InputFileError(f"{path}: {what} not found") from err
    except IsADirectoryError as err:
        raise InputFileError(f"{path}: is a directory, not a {what}") from err
    except OSError as err:
        raise InputFileError(f"{path}: cannot be read ({err.strerror})") from err
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, ValueError) as err:
            raise InputFileError(f"{path}: damaged gzip file ({err})") from err
    return data


def _value_text(text: str) -> str:
    """The value as written on the card (a quoted string up to its closing quote)."""
    rest = text[10:].strip()
    if rest.startswith("'"):
        return rest[: string_end(rest) + 1]
    return rest.split("/")[0].strip()


def _parse_card(text: str):
    """(keyword, value, value text, problem or '') of one 80-character card.

    Values are read as the FITS standard writes them (§4.2: quoted string,
    T/F, integer, real with E or D exponent, complex, or nothing), without
    astropy, so that validating costs milliseconds.
    """
    key = text[:8].strip().upper()
    if text[8:10] != "= " or key in ("COMMENT", "HISTORY", ""):
        return key, None, "", ""
    shown = _value_text(text)
    parsed = parse_value(text[10:])
    if parsed is None:
        return key, None, shown, f"{key} = {shown} does not parse"
    kind, value = parsed
    if kind == "real" and not math.isfinite(value):
        return key, None, shown, f"{key} = {shown} is not a finite number"
    if kind == "none":
        return key, None, shown or "(no value)", ""
    return key, value, shown, ""


#: A byte outside printable ASCII (32-126), which no header card may hold.
_NOT_PRINTABLE = re.compile(rb"[^\x20-\x7e]")


def _walk(data: bytes, every_card: bool = False) -> tuple[list, str]:
    """The HDUs (cards parsed) and a structural problem ('' if none).

    A value that does not parse is a violation for the keywords calstis or the
    reference reads (`READ_KEYWORDS`), or for every card with ``every_card``.
    """
    hdus, pos = [], 0
    while pos < len(data):
        index = len(hdus)
        cards, bad, offset = {}, [], pos
        ended = False
        while not ended:
            block = data[pos : pos + BLOCK]
            if len(block) < BLOCK:
                if index == 0 and pos == 0:
                    return hdus, "not a readable FITS file (shorter than one 2880-byte block)"
                return (
                    hdus,
                    f"not a readable FITS file (truncated inside the header of HDU {index})",
                )
            if index == 0 and pos == 0 and not block.startswith(b"SIMPLE  ="):
                return hdus, "not a readable FITS file (no SIMPLE card)"
            pos += BLOCK
            for k in range(0, BLOCK, CARD):
                chunk = block[k : k + CARD]
                if _NOT_PRINTABLE.search(chunk):
                    key = chunk[:8].decode("ascii", "replace").strip()
                    bad.append(
                        f"card {k // CARD + 1 + (pos - BLOCK - offset) // CARD} "
                        f"({key or 'blank'}) holds bytes that are not printable ASCII"
                    )
                    continue
                text = chunk.decode("ascii")
                number = k // CARD + 1 + (pos - BLOCK - offset) // CARD
                if text[:8] == "END     ":
                    ended = True
                    if text[8:].strip():
                        bad.append("the END card has text after END")
                    elif block[k + CARD :].strip(b" "):
                        bad.append("the header has bytes after END that are not blank")
                    break
                if not _KEYWORD.match(text[:8]):
                    bad.append(f"card {number} has an invalid keyword {text[:8].strip()!r}")
                    continue
                if (
                    text[8:10] != "= "
                    and text[:8].strip() in READ_KEYWORDS
                    and text[:8].strip() not in ("SIMPLE",)
                ):
                    bad.append(f"{text[:8].strip()} card has no value indicator ('= ')")
                    continue
                key, value, raw, problem = _parse_card(text)
                if problem and (every_card or key in READ_KEYWORDS):
                    bad.append(problem)
                if key and key not in cards and raw:
                    cards[key] = (value, raw) if not problem else (_BAD, raw)
        hdu = _Hdu(index, cards, [], 0, offset)
        hdu.bad = [Violation(hdu.where, what) for what in bad]
        size, problem = _data_size(hdu)
        if problem:
            return hdus + [hdu], problem
        hdu.data_bytes = size
        hdu.data_offset = pos
        hdus.append(hdu)
        end = pos + -(-size // BLOCK) * BLOCK
        if pos + size > len(data):
            return hdus, (
                f"not a readable FITS file (truncated: {hdu.where} data needs {size} bytes, "
                f"{max(0, len(data) - pos)} are left)"
            )
        pos = end
    if not hdus:
        return hdus, "empty file"
    return hdus, ""


class _Bad:
    """The value of a card that does not parse (its violation is already recorded)."""


_BAD = _Bad()


def _data_size(hdu: _Hdu) -> tuple[int, str]:
    def integer(key, default=None):
        value = hdu.cards.get(key, (default, ""))[0]
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        return value

    naxis = integer("NAXIS")
    bitpix = integer("BITPIX")
    if naxis is None or bitpix is None:
        missing = "NAXIS" if naxis is None else "BITPIX"
        return 0, f"{hdu.where}: {missing} is missing or not an integer"
    if bitpix not in (8, 16, 32, 64, -32, -64):
        return 0, f"{hdu.where}: BITPIX = {bitpix} is not a FITS data type"
    if not 0 <= naxis <= 999:
        return 0, f"{hdu.where}: NAXIS = {naxis} is out of range (0 to 999)"
    size = abs(bitpix) // 8 if naxis else 0
    for n in range(1, naxis + 1):
        length = integer(f"NAXIS{n}")
        if length is None or length < 0:
            return 0, f"{hdu.where}: NAXIS{n} is missing or not a non-negative integer"
        size *= length
    pcount, gcount = integer("PCOUNT", 0), integer("GCOUNT", 1)
    if naxis and (pcount is None or gcount is None):
        return 0, f"{hdu.where}: PCOUNT/GCOUNT are not integers"
    return (size + (pcount or 0)) * (gcount or 1) if naxis else 0, ""


def _check(where: str, key: str, rule: Rule, cards: dict) -> Violation | None:
    if key not in cards:
        return Violation(where, f"{key} is missing") if rule.required else None
    value, shown = cards[key]
    if value is _BAD:
        return None  # already said: does not parse
    if rule.kind in ("number", "int"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return Violation(where, f"{key} = {shown} is not a number")
        if rule.kind == "int" and float(value) != int(value):
            return Violation(where, f"{key} = {shown} is not an integer")
        if rule.choices and value not in rule.choices:
            return Violation(
                where, f"{key} = {shown} is not one of {', '.join(map(str, rule.choices))}"
            )
        if (rule.low is not None and value < rule.low) or (
            rule.high is not None and value > rule.high
        ):
            if rule.high is None:
                return Violation(where, f"{key} = {shown} is below {rule.low:g}")
            if rule.low is None:
                return Violation(where, f"{key} = {shown} is above {rule.high:g}")
            return Violation(
                where, f"{key} = {shown} is out of range ({rule.low:g} to {rule.high:g})"
            )
        return None
    if rule.kind == "logical":
        if not isinstance(value, bool):
            return Violation(where, f"{key} = {shown} is not a logical (T or F)")
        return None
    if not isinstance(value, str):
        return Violation(where, f"{key} = {shown} is not a string")
    if rule.choices and value.strip().upper() not in rule.choices:
        return Violation(where, f"{key} = {shown} is not one of {', '.join(rule.choices)}")
    return None


def _shape(hdu: _Hdu) -> tuple | None:
    naxis = hdu.cards.get("NAXIS", (0, ""))[0]
    if not naxis:
        return None
    return tuple(hdu.cards.get(f"NAXIS{n}", (0, ""))[0] for n in range(naxis, 0, -1))


def _null_shape(hdu: _Hdu) -> tuple | None:
    sizes = [hdu.cards.get(k, (None, ""))[0] for k in ("NPIX2", "NPIX1")]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in sizes):
        return tuple(sizes)
    return None


def validate_raw(path) -> list:
    """
    Every violation of the raw-file schema in ``path``, in file order.

    Parameters
    ----------
    path : str or Path
        ``*_raw.fits`` or ``*_raw.fits.gz`` (only read).

    Returns
    -------
    list of Violation
        Empty when the file is fit for the steps.

    Raises
    ------
    InputFileError
        The file is missing or cannot be read at all.
    """
    path = Path(path)
    hdus, problem = _walk(_read_bytes(path))
    out = [v for h in hdus for v in h.bad]
    if problem:
        return out + [Violation("", problem) if not problem.startswith("[") else _split(problem)]
    primary = hdus[0]
    identity = _not_stis_ccd(primary, hdus)
    if identity:
        return out + [identity]
    for key, rule in PRIMARY_SCHEMA.items():
        v = _check("[0]", key, rule, primary.cards)
        if v:
            out.append(v)
    out += _extension_violations(hdus)
    by_name = {}
    for hdu in hdus[1:]:
        by_name.setdefault((hdu.extname, hdu.extver), hdu)
    scis = [h for h in hdus[1:] if h.extname == "SCI"]
    if not scis:
        out.append(Violation("", "no SCI extension"))
    for sci in scis:
        for key, rule in SCI_SCHEMA.items():
            v = _check(sci.where, key, rule, sci.cards)
            if v:
                out.append(v)
        shape = _shape(sci)
        if shape is None or len(shape) != 2:
            out.append(Violation(sci.where, "SCI is not a 2-D image"))
            continue
        for name in ("ERR", "DQ"):
            other = by_name.get((name, sci.extver))
            where = f"[{name},{sci.extver}]"
            if other is None:
                out.append(Violation(where, f"missing (imset {sci.extver} has SCI only)"))
                continue
            own = _shape(other)
            if own is None:
                for key, rule in NULL_SCHEMA[name].items():
                    v = _check(where, key, rule, other.cards)
                    if v:
                        out.append(v)
                null = _null_shape(other)
                if null is not None and null != shape:
                    out.append(
                        Violation(
                            where,
                            f"NPIX1, NPIX2 = {null[1]}, {null[0]} differ from the SCI shape "
                            f"{shape[1]} x {shape[0]}",
                        )
                    )
            elif own != shape:
                out.append(
                    Violation(
                        where,
                        f"{name} is {' x '.join(map(str, own[::-1]))}, "
                        f"SCI is {shape[1]} x {shape[0]}",
                    )
                )
    return out


def _not_stis_ccd(primary: _Hdu, hdus: list) -> Violation | None:
    """A file that is no STIS CCD exposure at all is that one line, not a list of keywords."""
    instrument = primary.cards.get("INSTRUME", ("STIS", ""))[0]
    detector = primary.cards.get("DETECTOR", ("CCD", ""))[0]
    if isinstance(instrument, str) and instrument.strip().upper() != "STIS":
        return Violation("[0]", f"not a STIS exposure (INSTRUME = {instrument.strip()!r})")
    if isinstance(detector, str) and detector.strip().upper() != "CCD":
        return Violation("[0]", f"not a STIS CCD exposure (DETECTOR = {detector.strip()!r})")
    if not any(h.extname == "SCI" for h in hdus[1:]):
        return Violation("[0]", "not a STIS exposure (no SCI extension)")
    return None


def _extension_violations(hdus: list) -> list:
    out = []
    for hdu in hdus[1:]:
        kind = hdu.cards.get("XTENSION", ("IMAGE", ""))[0]
        if isinstance(kind, str) and kind.strip().upper() == "IMAGE":
            for key, value in (("PCOUNT", 0), ("GCOUNT", 1)):
                v = _check(hdu.where, key, Rule("int", choices=(value,)), hdu.cards)
                if v:
                    out.append(v)
        for key, rule in EXTENSION_SCHEMA.items():
            v = _check(hdu.where, key, rule, hdu.cards)
            if v:
                out.append(v)
    return out


def _split(problem: str) -> Violation:
    where, _, what = problem.partition(": ")
    return Violation(where, what)


def validate_fits(path, *, images_only: bool = True) -> list:
    """
    The structural violations of any FITS file: damaged headers, missing data, tables.

    What `validate_raw` checks before its schema (headers end, data blocks
    present, printable ASCII, every card parses), and with ``images_only``
    any extension that is not an image (``stischeck diff`` compares calstis
    products, not reference tables). Every card's value must parse: a diff
    compares them all.
    """
    path = Path(path)
    hdus, problem = _walk(_read_bytes(path, "file"), every_card=True)
    return _structure_violations(hdus, problem, images_only=images_only)


def _structure_violations(hdus: list, problem: str, *, images_only: bool) -> list:
    """`validate_fits` on HDUs already walked (`_walk` with ``every_card``)."""
    out = [v for h in hdus for v in h.bad]
    if problem:
        out.append(Violation("", problem) if not problem.startswith("[") else _split(problem))
    out += _extension_violations(hdus)
    for hdu in hdus[1:]:
        kind = hdu.cards.get("XTENSION", ("IMAGE", ""))[0]
        if isinstance(kind, str) and kind.strip().upper() in ("BINTABLE", "TABLE"):
            out += _table_violations(hdu)
    if images_only:
        for hdu in hdus[1:]:
            kind = hdu.cards.get("XTENSION", ("IMAGE", ""))[0]
            if isinstance(kind, str) and kind.strip().upper() != "IMAGE":
                out.append(
                    Violation(hdu.where, f"a {kind.strip()} extension: not an image product")
                )
                break
    return out


#: A keyword field (FITS 4.1.2.1): upper-case letters, digits, '-' and '_', left-justified.
_KEYWORD = re.compile(r"^[A-Z0-9_-]{0,8} *$")
_TFORM = re.compile(r"^\s*\d*[LXBIJKAEDCMPQ]", re.IGNORECASE)


def _table_violations(hdu: _Hdu) -> list:
    """A table's own structure: TFIELDS, and a TFORM and TTYPE for each column."""
    out = []
    v = _check(hdu.where, "TFIELDS", Rule("int", required=True, low=0, high=999), hdu.cards)
    if v:
        return [v]
    fields = hdu.cards["TFIELDS"][0]
    if fields is _BAD:
        return out
    for n in range(1, fields + 1):
        for key in (f"TFORM{n}", f"TTYPE{n}"):
            v = _check(hdu.where, key, Rule("string", required=True), hdu.cards)
            if v:
                return [v]
        form = hdu.cards[f"TFORM{n}"][0]
        if isinstance(form, str) and not _TFORM.match(form):
            return [Violation(hdu.where, f"TFORM{n} = {form!r} is not a FITS column format")]
    return out


def check_fits(path, *, images_only: bool = True) -> None:
    """Raise `InputFileError` with one line for the first structural violation of ``path``."""
    found = validate_fits(path, images_only=images_only)
    if found:
        more = f" (and {len(found) - 1} more problem(s))" if len(found) > 1 else ""
        raise InputFileError(found[0].line(str(path)) + more)


#: The step that reads each reference file (spec §1.3); the CCDTAB is read by every run.
READ_BY = {
    "CCDTAB": None,
    "BPIXTAB": "DQICORR",
    "CRREJTAB": "CRCORR",
    "BIASFILE": "BIASCORR",
    "DARKFILE": "DARKCORR",
    "PFLTFILE": "FLATCORR",
    "DFLTFILE": "FLATCORR",
    "LFLTFILE": "FLATCORR",
}


def validate_references(raw, oref=None, *, switches=None) -> list:
    """
    Structural violations of the reference files ``raw`` names, as complete lines.

    Parameters
    ----------
    raw : str or Path
        The raw file (already valid: `validate_raw`).
    oref : Path, optional
        ``--oref``; None resolves as the reference does (``$oref``, CRDS).
    switches : iterable of str, optional
        Only the files these steps read (default: the steps the raw header
        sets to PERFORM). A file that cannot be found is not reported here
        (the run says so, as calstis does).

    Returns
    -------
    list of str
        ``<reference file>[HDU]: <what is wrong>``, one per damaged file; a
        CRREJTAB with no rows too.
    """
    from stischeck.inputs import read_raw_header, reference_files

    raw = Path(raw)
    header = read_raw_header(raw)
    if switches is None:
        switches = {
            k for k in READ_BY.values() if k and str(header.get(k, "")).strip() == "PERFORM"
        }
    wanted = {k for k, step in READ_BY.items() if step is None or step in set(switches)}
    lines = []
    for key, entry in sorted(reference_files(raw, header, oref, digests=False).items()):
        if key not in wanted or not entry.get("path"):
            continue
        path = Path(entry["path"])
        data = _read_bytes(path, "file")  # read and walked once for every check below
        hdus, problem = _walk(data, every_card=True)
        found = _structure_violations(hdus, problem, images_only=False)
        if found:
            lines.append(f"{key} {found[0].line(str(path))}")
            continue
        if key == "CCDTAB":
            lines += _ccdtab_violations(path, hdus, data)
        if key in ("CCDTAB", "BPIXTAB", "CRREJTAB"):
            lines += _table_text_violations(key, path, hdus, data)
        if key.endswith("FILE"):
            lines += _image_value_violations(key, path, hdus, data)
        if key == "CRREJTAB":
            rows = hdus[1].cards.get("NAXIS2", (None, ""))[0] if len(hdus) > 1 else 0
            if not rows:
                lines.append(f"{key} {path}[1]: the table has no rows")
    return lines


#: CCDTAB columns the 2-D steps read as numbers (spec §1.3).
CCDTAB_NUMBERS = ("ATODGAIN", "READNSE", "CCDBIAS")


def _ccdtab_violations_astropy(path: Path) -> list:
    """A NaN or infinite value in a CCDTAB column the steps read.

    calstis 3.5.0 calibrates with such a row (a NaN READNSE comes out as
    READNSE = 1.6e+38 and a statistics keyword astropy cannot parse); the
    reference refuses it, named, rather than guess what calstis means.
    """
    from astropy.io import fits

    try:
        # Our own file object: astropy leaves its own open when a damaged table fails.
        with path.open("rb") as stream, fits.open(stream) as hdul:
            table = hdul[1].data
            for column in CCDTAB_NUMBERS:
                if table is None or column not in table.names:
                    continue
                values = np.asarray(table[column], dtype=float)
                bad = np.flatnonzero(~np.isfinite(values))
                if bad.size:
                    return [
                        f"CCDTAB {path}[1]: {column} = {values[bad[0]]} in row {bad[0] + 1} "
                        "is not a finite number"
                    ]
    except Exception as err:  # noqa: BLE001 - the reader says it again, in its words
        return [f"CCDTAB {path}: not a readable table ({' '.join(str(err).split())})"]
    return []


def _table_text_violations_astropy(key: str, path: Path) -> list:
    """Text columns of a reference table hold ASCII only (the readers decode them as such)."""
    from astropy.io import fits

    try:
        with path.open("rb") as stream, fits.open(stream) as hdul:
            for hdu in hdul[1:]:
                raw = getattr(hdu.data, "base", None)
                if raw is None or raw.dtype.names is None:
                    continue
                for name in raw.dtype.names:
                    column = np.asarray(raw[name])
                    if column.dtype.kind == "S" and max(column.tobytes(), default=0) > 127:
                        return [f"{key} {path}[{hdu.name},{hdu.ver}]: column {name} holds "
                                "bytes that are not ASCII"]  # fmt: skip
    except Exception as err:  # noqa: BLE001 - one line, in the reader's words
        return [f"{key} {path}: not a readable table ({' '.join(str(err).split())})"]
    return []


def _unusable_pixels(values: np.ndarray) -> str:
    """``"3 not finite (2 NaN, 1 infinite) of 1048576 pixels"`` ('' when every pixel is usable)."""
    finite = np.isfinite(values)
    bad = int(np.count_nonzero(~finite))
    huge = int(np.count_nonzero(np.abs(values[finite]) > 1e30))
    if not (bad or huge):
        return ""
    nans = int(np.count_nonzero(np.isnan(values)))
    what = [f"{bad} not finite ({nans} NaN, {bad - nans} infinite)"] if bad else []
    what += [f"{huge} beyond 1e30"] if huge else []
    return f"{' and '.join(what)} of {values.size} pixels"


def _image_value_violations_astropy(key: str, path: Path) -> list:
    """Reference-image pixels that are not finite numbers (NaN, infinite, beyond 1e30): one line.

    The reference refuses a bias, dark or flat with such pixels, naming the file,
    the extension and the count, rather than reproduce calstis on them: calstis
    3.5.0 calibrates (exit 0) but its result is not a calibration one can check
    (a NaN ``GOODMEAN``; a NaN in the CR rejection's sky or in a dark's
    ``MEANDARK``; an infinite pixel as an infinite statistic FITS cannot hold;
    cs0.e segfaults on some of them). The same rule for NaN and infinity, in
    every command (README, "Damaged input").
    """
    from astropy.io import fits

    try:
        with path.open("rb") as stream, fits.open(stream) as hdul:
            for hdu in hdul[1:]:
                if hdu.name not in ("SCI", "ERR") or hdu.data is None:
                    continue
                what = _unusable_pixels(np.asarray(hdu.data, dtype=np.float64))
                if what:
                    return [f"{key} {path}[{hdu.name},{hdu.ver}]: {what}"]
    except Exception as err:  # noqa: BLE001 - one line, in the reader's words
        return [f"{key} {path}: not a readable image ({' '.join(str(err).split())})"]
    return []


# The three checks above read the file with astropy. The versions below read the
# bytes `_walk` already has, for the plain layouts of real reference files (float
# images; binary tables of fixed-width columns without TSCAL/TZERO), and hand any
# other layout (a tile-compressed image, a scaled column, a variable-length array)
# to astropy: importing astropy.io.fits costs 0.3 s, more than the whole reference
# pipeline of `stischeck reference` on a small exposure (issue 17). The lines they
# give are the same, file for file (tests/unit/test_validate_references.py).

#: Binary-table column codes of fixed width (FITS 4.0 Table 18): bytes per element.
_TFORM_BYTES = {"L": 1, "B": 1, "I": 2, "J": 4, "K": 8, "A": 1, "E": 4, "D": 8, "C": 8, "M": 16}
_TFORM_DTYPE = {"I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8"}
_TFORM_PARTS = re.compile(r"^\s*(\d*)([A-Z])", re.IGNORECASE)


def _card(hdu: _Hdu, key: str, default=None):
    return hdu.cards.get(key, (default, ""))[0]


def _is_table(hdu: _Hdu) -> bool:
    kind = _card(hdu, "XTENSION", "")
    return isinstance(kind, str) and kind.strip().upper() == "BINTABLE"


def _columns(hdu: _Hdu) -> list | None:
    """(name, code, repeat, byte offset) per column; None for a layout astropy must read."""
    fields = _card(hdu, "TFIELDS", 0)
    if not isinstance(fields, int) or _card(hdu, "PCOUNT", 0) not in (0, None):
        return None
    out, offset = [], 0
    for n in range(1, fields + 1):
        if f"TSCAL{n}" in hdu.cards or f"TZERO{n}" in hdu.cards:
            return None
        match = _TFORM_PARTS.match(str(_card(hdu, f"TFORM{n}", "")))
        if match is None or match[2].upper() not in _TFORM_BYTES:
            return None  # X bits, P/Q arrays: astropy's
        repeat, code = int(match[1] or 1), match[2].upper()
        out.append((str(_card(hdu, f"TTYPE{n}", "")).strip(), code, repeat, offset))
        offset += repeat * _TFORM_BYTES[code]
    return out if offset == _card(hdu, "NAXIS1") else None


def _table_rows(hdu: _Hdu, data: bytes) -> np.ndarray:
    """The table's rows as a (NAXIS2, NAXIS1) array of bytes."""
    width, rows = int(_card(hdu, "NAXIS1", 0)), int(_card(hdu, "NAXIS2", 0))
    flat = np.frombuffer(data, np.uint8, width * rows, hdu.data_offset)
    return flat.reshape(rows, width)


def _hdu_name(hdu: _Hdu) -> str:
    """``[NAME,VER]`` as astropy names an HDU (an HDU without EXTNAME has name '')."""
    return f"[{hdu.extname},{hdu.extver}]"


def _ccdtab_violations(path: Path, hdus: list, data: bytes) -> list:
    """`_ccdtab_violations_astropy` on the bytes already read (same lines)."""
    columns = _columns(hdus[1]) if len(hdus) > 1 and _is_table(hdus[1]) else None
    if columns is None:
        return _ccdtab_violations_astropy(path)
    rows = _table_rows(hdus[1], data)
    layout = {name: (code, repeat, offset) for name, code, repeat, offset in columns}
    for column in CCDTAB_NUMBERS:
        if column not in layout:
            continue
        code, repeat, offset = layout[column]
        if code not in _TFORM_DTYPE or repeat != 1:
            return _ccdtab_violations_astropy(path)
        size = np.dtype(_TFORM_DTYPE[code]).itemsize
        cells = np.ascontiguousarray(rows[:, offset : offset + size])
        values = cells.view(_TFORM_DTYPE[code]).ravel().astype(float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            return [f"CCDTAB {path}[1]: {column} = {values[bad[0]]} in row {bad[0] + 1} "
                    "is not a finite number"]  # fmt: skip
    return []


def _table_text_violations(key: str, path: Path, hdus: list, data: bytes) -> list:
    """`_table_text_violations_astropy` on the bytes already read (same lines)."""
    for hdu in hdus[1:]:
        if not _is_table(hdu):
            continue
        columns = _columns(hdu)
        if columns is None:
            return _table_text_violations_astropy(key, path)
        rows = _table_rows(hdu, data)
        for name, code, repeat, offset in columns:
            if code == "A" and rows.size and rows[:, offset : offset + repeat].max() > 127:
                return [f"{key} {path}{_hdu_name(hdu)}: column {name} holds bytes that are "
                        "not ASCII"]  # fmt: skip
    return []


def _image_value_violations(key: str, path: Path, hdus: list, data: bytes) -> list:
    """`_image_value_violations_astropy` on the bytes already read (same lines)."""
    for hdu in hdus[1:]:
        if hdu.extname not in ("SCI", "ERR"):
            continue
        bitpix, naxis = _card(hdu, "BITPIX"), _card(hdu, "NAXIS", 0)
        if _is_table(hdu) or _card(hdu, "BSCALE", 1) != 1 or _card(hdu, "BZERO", 0) != 0:
            return _image_value_violations_astropy(key, path)  # compressed or scaled
        if bitpix not in (-32, -64) or not naxis:
            continue  # integers are finite; a null extension holds no pixels
        count = hdu.data_bytes * 8 // abs(bitpix)
        pixels = np.frombuffer(data, f">f{abs(bitpix) // 8}", count, hdu.data_offset)
        if (np.abs(pixels) <= 1e30).all():  # false for NaN and infinity too
            continue
        return [f"{key} {path}{_hdu_name(hdu)}: {_unusable_pixels(pixels.astype(np.float64))}"]
    return []


def check_references(raw, oref=None, *, switches=None) -> None:
    """Raise `InputFileError` with one line for the first damaged reference file."""
    found = validate_references(raw, oref, switches=switches)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise InputFileError(found[0] + more)


def check_oref(oref, option: str = "--oref") -> None:
    """
    Raise `InputFileError` when ``--oref`` (or ``option``) is not a folder this user can read.

    Raises
    ------
    InputFileError
        ``<oref>: --oref is not a directory`` or ``... cannot be read (permission denied)``.
    """
    import os

    if oref is None:
        return
    oref = Path(oref)
    if not oref.is_dir():
        raise InputFileError(f"{oref}: {option} is not a directory")
    if not os.access(oref, os.R_OK | os.X_OK):
        raise InputFileError(f"{oref}: {option} cannot be read (permission denied)")


def check_raw(path) -> None:
    """
    Raise `InputFileError` with one line for the first violation (and how many more).

    Raises
    ------
    InputFileError
        ``<file>[HDU]: <what is wrong>`` (plus ``(and N more problems)``).
    """
    path = Path(path)
    found = validate_raw(path)
    if found:
        more = f" (and {len(found) - 1} more problem(s))" if len(found) > 1 else ""
        raise InputFileError(found[0].line(str(path)) + more)
