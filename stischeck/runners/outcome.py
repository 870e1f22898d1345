"""What one run of one side did: the contract shared by the calstis and reference runners."""

from dataclasses import dataclass, field
from pathlib import Path

from stischeck.vocabulary import rootname

__all__ = ["RunOutcome", "prepare_input", "prepare_inputs", "check_products", "outcome_of_products"]


@dataclass(frozen=True)
class RunOutcome:
    """The real status of one run.

    Attributes
    ----------
    side : str
        ``"calstis"``, ``"reference"`` or ``"steplocal"``.
    status : str
        ``"ok"`` (products written and their headers say the steps ran),
        ``"empty"`` (no product, and none was expected: the all-OMIT configuration),
        or ``"error"`` (crash, signal, timeout, non-zero exit, missing or
        unreadable product, a step left PERFORM; ``message`` says which).
    message : str
        One line; empty when ``status == "ok"``.
    products : dict
        Suffix (``"flt"``, ``"crj"``) -> Path of each product written.
    returncode : int or None
        Exit status (negative: killed by that signal); None when it never ended.
    wall_s : float
    peak_rss_mib : float or None
        Peak resident memory of the run's process, MiB.
    trailer : Path or None
        The run's standard output and error.
    header_switches : dict
        Suffix -> {switch: value} from each product's primary header.
    """

    side: str
    status: str
    message: str = ""
    products: dict = field(default_factory=dict)
    returncode: int | None = None
    wall_s: float = 0.0
    peak_rss_mib: float | None = None
    trailer: Path | None = None
    header_switches: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True for ``"ok"`` and ``"empty"``."""
        return self.status != "error"


def prepare_input(raw: Path, workdir: Path, switches: dict, *, name: str | None = None) -> Path:
    """
    Write a copy of ``raw`` into ``workdir`` with ``switches`` set in its primary header.

    The user's file is only read. A ``.fits.gz`` input is written uncompressed,
    named ``<rootname>_raw.fits`` (or ``name``) so that both programs name their
    products alike. Only the switch cards change; every other byte is copied
    (`stischeck.fits.cards`).

    Raises
    ------
    InputFileError
        ``raw`` is missing or not a readable FITS file.
    """
    key = "copy"
    return prepare_inputs(raw, {key: (workdir, switches)}, name=name)[key]


def prepare_inputs(raw: Path, wanted: dict, *, name: str | None = None) -> dict:
    """
    Write several copies of ``raw``, each with its own switches, reading ``raw`` once.

    Parameters
    ----------
    raw : Path
        The user's raw file (only read).
    wanted : dict
        Key -> (work directory, {switch: value}).
    name : str, optional
        File name of the copies (default ``<rootname>_raw.fits``).

    Returns
    -------
    dict
        Key -> the copy written (uncompressed).

    Raises
    ------
    InputFileError
        ``raw`` is missing or not a readable FITS file.
    """
    from stischeck.errors import InputFileError
    from stischeck.fits.cards import check_complete, read_primary_cards, with_string_values

    primary = read_primary_cards(Path(raw), error_cls=InputFileError, what="raw file")
    check_complete(primary, error_cls=InputFileError, what="raw file")
    if name is None:
        name = f"{rootname(primary, raw)}_raw.fits"
    out = {}
    for key, (workdir, switches) in wanted.items():
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / name).write_bytes(with_string_values(primary, switches))
        out[key] = workdir / name
    return out


def check_products(products: dict, performed: tuple) -> tuple[str, dict]:
    """
    Read each product's primary header and check that every performed step ran.

    Returns
    -------
    (problem, header_switches)
        ``problem`` is "" when every product opens and shows each performed
        switch as COMPLETE or SKIPPED (or every imset is bad, ``IMSET_OK = F``:
        calstis then leaves the switches PERFORM); else one line naming the
        product and why.
    """
    from stischeck.errors import InputFileError
    from stischeck.fits.cards import card_value, read_header_cards

    header_switches, problems = {}, []
    for suffix, path in sorted(products.items()):
        try:
            # The harness's card reader, not the reference's: a truncated file fails
            # here. Headers only: the comparison reads the data, once.
            primary, extensions = read_header_cards(path, error_cls=InputFileError, what="product")
            imset_ok = [
                card_value(cards, "IMSET_OK", True) is not False
                for cards in extensions
                if str(card_value(cards, "EXTNAME", "")).strip().upper() == "SCI"
            ]
            obstype = str(primary.get("OBSTYPE", "")).strip().upper()
            header_switches[suffix] = {k: str(primary.get(k, "")).strip() for k in performed}
        except Exception as err:  # noqa: BLE001 - any unreadable product is one finding
            reason = str(err).splitlines()[0]
            reason = reason.split(": ", 1)[1] if reason.startswith(str(path)) else reason
            problems.append(f"{path.name}: unreadable product ({reason})")
            continue
        stuck = [
            f"{k}={v or 'missing'}"
            for k, v in header_switches[suffix].items()
            if k != "EXPSCORR"
            and v not in ("COMPLETE", "SKIPPED")
            # With EXPSCORR the _flt beside the _crj holds the per-imset data
            # before rejection; calstis leaves CRCORR = PERFORM in it.
            and not (k == "CRCORR" and suffix == "flt" and "crj" in products)
            # calstis1 computes photometry for imaging only and leaves the
            # switch of any other OBSTYPE as it was (cs1/getflags1.c checkPhot).
            and not (k == "PHOTCORR" and obstype != "IMAGING")
        ]
        if stuck and imset_ok and not any(imset_ok):
            # Every imset bad (IMSET_OK = F: all zero, as in the real ACQ/PEAK o4er06llq):
            # calstis writes the product and leaves the switches PERFORM ("No good data
            # were written to output"); found with cs0.e 3.5.0. Not a step that failed.
            stuck = []
        if stuck:
            problems.append(f"{path.name}: step(s) did not run ({', '.join(stuck)})")
    return "; ".join(problems), header_switches


def outcome_of_products(
    workdir: Path,
    name: str,
    performed: tuple,
    expects_products,
    *,
    what: str,
    no_product: str,
    common: dict,
    writer: str | None = None,
) -> RunOutcome:
    """
    The outcome of a calstis run that ended well: what it wrote in ``workdir/out``, checked.

    Parameters
    ----------
    workdir : Path
        The run's folder; products are ``out/<stem>_flt.fits`` and ``_crj.fits``.
    name : str
        The raw copy's file name (``<rootname>_raw.fits``).
    performed : tuple of str
        Switches the configuration set to PERFORM (`check_products`).
    expects_products : bool or None
        True: a product must appear; False: none may; None: either.
    what : str
        Who ran, for messages (``"cs0.e"``, ``"stistools.calstis"``).
    no_product : str
        The message when a product was expected and none was written.
    common : dict
        `RunOutcome` fields every outcome of this run carries.
    writer : str, optional
        Who wrote the products, for the message when none was expected (default ``what``).
    """
    stem = name[: -len("_raw.fits")] if name.endswith("_raw.fits") else Path(name).stem
    products = {sfx: workdir / "out" / f"{stem}_{sfx}.fits" for sfx in ("flt", "crj")}
    products = {k: v for k, v in products.items() if v.exists()}
    if not products:
        if expects_products:
            return RunOutcome(status="error", message=no_product, returncode=0, **common)
        return RunOutcome(status="empty", returncode=0, **common)
    if expects_products is False:
        return RunOutcome(
            status="error",
            message=f"{writer or what} wrote {', '.join(sorted(products))} "
            "where no product was expected",
            products=products,
            returncode=0,
            **common,
        )
    problem, header_switches = check_products(products, performed)
    return RunOutcome(
        status="error" if problem else "ok",
        message=f"{what} on {name}: {problem}" if problem else "",
        products=products,
        returncode=0,
        header_switches=header_switches,
        **common,
    )
