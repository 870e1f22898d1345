"""Configurations: named sets of calstis switch values that both sides run with.

The default is the cumulative 2-D CCD ladder of the STScI notebook "Calstis 2-D
CCD Data Reduction": every switch OMIT (the raw image; calstis writes no
product), then DQICORR, BLEVCORR, BIASCORR, CRCORR, DARKCORR and FLATCORR
added one at a time, and for an imaging raw file that asks for PHOTCORR and
names an IMPHTTAB a PHOTCORR rung after FLATCORR. STATFLAG stays as in the raw header; EXPSCORR
takes the raw header's value from the CRCORR rung on (it only acts with
CRCORR), and is OMIT before, as in the stored corpus.

``HEADER`` (asked for with ``--steps HEADER``) runs the raw file as it asks:
its own values of the 2-D CCD switches (`HEADER_SWITCHES`), every other
switch OMIT.
"""

from dataclasses import dataclass

from stischeck.errors import UsageError
from stischeck.vocabulary import CALIBRATION_SWITCHES, HEADER_SWITCHES, LADDER

__all__ = [
    "LADDER",
    "CALIBRATION_SWITCHES",
    "Configuration",
    "cumulative_sequence",
    "single",
    "explicit",
    "with_recorded_switches",
    "configurations_for",
    "RAW_NAME",
    "HEADER_NAME",
    "HEADER_SWITCHES",
    "PHOTCORR_RUNG",
]

#: Name of the all-OMIT configuration (no product expected from either side).
RAW_NAME = "RAW"
#: Name of the configuration with the raw header's own 2-D switches.
HEADER_NAME = "HEADER"
#: The rung after FLATCORR for imaging data with an IMPHTTAB.
PHOTCORR_RUNG = "PHOTCORR"


@dataclass(frozen=True)
class Configuration:
    """One switch configuration.

    Attributes
    ----------
    name : str
        ``"RAW"``, a ladder step name (``"BIASCORR"`` = cumulative up to BIASCORR,
        the corpus folder name), ``"only-DARKCORR"``, or ``"set-A+B"``.
    switches : tuple of (str, str)
        Every calibration switch and its value, in header order.
    added : str or None
        The switch this rung adds to the previous one (ladder only).
    previous : str or None
        The previous rung's name (ladder only): the input of a step-local run.
    origin : str
        Where the switch values come from: ``"derived"`` (the ladder, ``--only``
        or ``--switches`` with the raw header's EXPSCORR), ``"raw header"``
        (HEADER) or ``"truth manifest"``.
    """

    name: str
    switches: tuple
    added: str | None = None
    previous: str | None = None
    origin: str = "derived"

    @property
    def switch_dict(self) -> dict:
        """Switch -> value."""
        return dict(self.switches)

    @property
    def performed(self) -> tuple:
        """The switches set to PERFORM, in order."""
        return tuple(k for k, v in self.switches if v == "PERFORM")

    @property
    def expects_products(self) -> bool:
        """False for the all-OMIT configuration: calstis writes nothing then."""
        return any(k != "EXPSCORR" for k in self.performed)


def _switches(perform: set, raw_expscorr: str) -> tuple:
    values = []
    for key in CALIBRATION_SWITCHES:
        if key == "EXPSCORR":
            value = raw_expscorr if "CRCORR" in perform else "OMIT"
        else:
            value = "PERFORM" if key in perform else "OMIT"
        values.append((key, value))
    return tuple(values)


def _raw_expscorr(raw_header) -> str:
    value = str(raw_header.get("EXPSCORR", "OMIT")).strip().upper() if raw_header else "OMIT"
    return "PERFORM" if value == "PERFORM" else "OMIT"


def _has_photometry(raw_header) -> bool:
    """An imaging raw header that asks for PHOTCORR and names an IMPHTTAB."""
    if not raw_header:
        return False
    obstype = str(raw_header.get("OBSTYPE", "")).strip().upper()
    table = str(raw_header.get("IMPHTTAB", "")).strip()
    asks = str(raw_header.get("PHOTCORR", "")).strip().upper() == "PERFORM"
    return obstype == "IMAGING" and asks and table not in ("", "N/A", "n/a")


def header_configuration(raw_header) -> Configuration:
    """``HEADER``: the raw header's own 2-D switch values, every other switch OMIT."""
    values = []
    for key in CALIBRATION_SWITCHES:
        value = "OMIT"
        if key in HEADER_SWITCHES and raw_header is not None:
            value = str(raw_header.get(key, "OMIT")).strip().upper() or "OMIT"
        values.append((key, value))
    return Configuration(HEADER_NAME, tuple(values), origin="raw header")


def cumulative_sequence(raw_header=None, steps=None) -> list:
    """
    The cumulative ladder (RAW, +DQICORR ... +FLATCORR[, +PHOTCORR]), or the rungs in ``steps``.

    Parameters
    ----------
    raw_header : astropy.io.fits.Header, optional
        The raw primary header (EXPSCORR; OBSTYPE and IMPHTTAB for the PHOTCORR rung).
    steps : iterable of str, optional
        Subset of ``("RAW",) + LADDER (+ ("PHOTCORR",)) + ("HEADER",)``; each
        rung keeps its cumulative switches; HEADER is only run when named here.

    Returns
    -------
    list of Configuration
    """
    expscorr = _raw_expscorr(raw_header)
    rungs = [Configuration(RAW_NAME, _switches(set(), expscorr))]
    perform: set = set()
    previous = RAW_NAME
    ladder = LADDER + ((PHOTCORR_RUNG,) if _has_photometry(raw_header) else ())
    for step in ladder:
        perform = perform | {step}
        rungs.append(Configuration(step, _switches(perform, expscorr), step, previous))
        previous = step
    if steps is None:
        return rungs
    rungs.append(header_configuration(raw_header))
    wanted = [s.strip().upper() for s in steps if s.strip()]
    known = {c.name for c in rungs}
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise UsageError(
            f"--steps: unknown step(s) {', '.join(unknown)}; choose from "
            f"{', '.join(c.name for c in rungs)}"
        )
    return [c for c in rungs if c.name in wanted]


def single(switch: str, raw_header=None) -> Configuration:
    """One switch alone (``--only DARKCORR``)."""
    return explicit([switch], raw_header, name=f"only-{switch.strip().upper()}")


def explicit(switches, raw_header=None, *, name: str | None = None) -> Configuration:
    """An explicit set of switches to PERFORM, every other calibration switch OMIT."""
    wanted = {s.strip().upper() for s in switches if s.strip()}
    unknown = sorted(wanted - set(CALIBRATION_SWITCHES))
    if unknown:
        raise UsageError(f"unknown switch(es) {', '.join(unknown)}")
    expscorr = _raw_expscorr(raw_header)
    values = _switches(wanted - {"EXPSCORR"}, expscorr)
    if "EXPSCORR" in wanted:
        values = tuple((k, "PERFORM" if k == "EXPSCORR" else v) for k, v in values)
    ordered = [k for k in CALIBRATION_SWITCHES if k in wanted]
    return Configuration(name or "set-" + "+".join(ordered), values)


def with_recorded_switches(configurations: list, recorded: dict) -> list:
    """
    Give each configuration the switches a truth manifest recorded for it.

    Stored products were made with particular switch values (the corpus ran
    with EXPSCORR = OMIT where its raw headers say PERFORM); comparing against
    them means running both sides with exactly those values. Configurations
    the manifest does not list keep theirs.

    Parameters
    ----------
    configurations : list of Configuration
    recorded : dict
        Configuration name -> {switch: value}, from `stischeck.truth.TruthSet`.

    Returns
    -------
    list of Configuration
    """
    from dataclasses import replace

    out = []
    for config in configurations:
        values = recorded.get(config.name)
        if not values:
            out.append(config)
            continue
        merged = dict(config.switches)
        merged.update(values)
        order = [k for k in CALIBRATION_SWITCHES if k in merged]
        order += sorted(k for k in merged if k not in CALIBRATION_SWITCHES)
        switches = tuple((k, merged[k]) for k in order)
        out.append(replace(config, switches=switches, origin="truth manifest"))
    return out


def configurations_for(
    header,
    *,
    steps=None,
    only=None,
    switches=None,
    truth=None,
    include_raw: bool = True,
) -> list:
    """
    The configurations a comparison runs, as every front end chooses them.

    Parameters
    ----------
    header : astropy.io.fits.Header
        The raw primary header (EXPSCORR from it).
    steps : list of str, optional
        Rungs of the cumulative ladder (``RAW``, ``DQICORR`` ... ``FLATCORR``).
    only : list of str, optional
        Single-switch configurations, one per switch.
    switches : list of list of str, optional
        Explicit switch sets, one configuration each.
    truth : path-like, optional
        A truth folder; its manifest's recorded switches replace the derived ones.
    include_raw : bool
        Keep the all-OMIT rung of the default ladder (record leaves it out).

    Returns
    -------
    list of Configuration
        ``only`` wins over ``switches``, which wins over ``steps``; none of
        them: the whole ladder.
    """
    if only:
        configurations = [single(s, header) for s in only]
    elif switches:
        configurations = [explicit(list(s), header) for s in switches]
    else:
        configurations = cumulative_sequence(header, steps)
        if not include_raw and steps is None:
            configurations = [c for c in configurations if c.name != RAW_NAME]
    if truth is not None:
        from stischeck.truth import load_truth

        configurations = with_recorded_switches(configurations, load_truth(truth).step_switches)
    return configurations
