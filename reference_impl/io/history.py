"""The HISTORY text calstis1 writes (``cs1/history1.c``, ``tabhistory.c``, ``imghistory.c``).

Pure text: `pipeline.py` says which step ran and which reference files it
used (their names, PEDIGREE and DESCRIP); these functions give the lines.
"""

from dataclasses import dataclass

__all__ = [
    "CCD_TABLE",
    "NOISE_INITIALISED",
    "ReferenceUsed",
    "blevcorr_history",
    "image_history",
    "step_history",
    "table_history",
]

#: The line before the CCDTAB's (history1.c, the CCD parameters).
CCD_TABLE = "CCD parameters table ..."
#: noiseHistory, written after blevHistory when ERR was initialised.
NOISE_INITIALISED = "Uncertainty array initialized."
#: UpdateSwitch's text for each state of a step's switch.
_STATUS = {
    "PERFORM": "complete ...",
    "DUMMY": "skipped due to dummy reference file ...",
    "IGNORED": "not performed ...",  # UpdateSwitch: no reference files logged then
}


@dataclass(frozen=True)
class ReferenceUsed:
    """A reference file a step used, as its HISTORY names it.

    Attributes
    ----------
    name : str
        The header's name of it (``oref$...``).
    pedigree, descrip : str
        Its PEDIGREE and DESCRIP (for a table, the selected row's PEDIGREE when it has one).
    descrip2 : str
        A table row's DESCRIP ("" when none).
    is_table : bool
        A table (tabhistory.c) rather than an image (imghistory.c).
    """

    name: str
    pedigree: str
    descrip: str
    descrip2: str = ""
    is_table: bool = False


def table_history(name: str, pedigree: str, descrip: str, descrip2: str = "") -> list[str]:
    """tabhistory.c: the table's name, PEDIGREE, DESCRIP and the row's DESCRIP (when set)."""
    lines = [f"  reference table {name.strip()}"]
    lines += [f"    {text.strip()}" for text in (pedigree, descrip, descrip2) if text.strip()]
    return lines


def image_history(name: str, pedigree: str, descrip: str) -> list[str]:
    """imghistory.c: the image's name, PEDIGREE and DESCRIP (when set)."""
    lines = [f"  reference image {name.strip()}"]
    lines += [f"    {text.strip()}" for text in (pedigree, descrip) if text.strip()]
    return lines


def blevcorr_history(*, blev_done: bool, drift: bool) -> list[str]:
    """blevHistory: whether the overscan level (and its drift along lines) was subtracted."""
    return [
        "BLEVCORR complete; bias level from overscan was subtracted."
        if blev_done
        else "BLEVCORR complete, but default bias level was subtracted.",
        "BLEVCORR includes correction for drift along lines."
        if drift
        else "BLEVCORR does not include correction for drift along lines.",
    ]


def step_history(switch: str, value: str, used: list, *, tds_included: bool = False) -> list[str]:
    """
    A step's HISTORY lines (history1.c): UpdateSwitch's, then the reference files used.

    Parameters
    ----------
    switch : str
        ``DQICORR`` ... ``PHOTCORR`` (not BLEVCORR: see `blevcorr_history`).
    value : str
        ``PERFORM``, ``DUMMY`` or ``IGNORED`` (then no reference is named).
    used : list of ReferenceUsed
        In the order history1.c names them (DQICORR: the BPIXTAB or nothing).
    tds_included : bool
        PHOTCORR: the TDSTAB was used (else a note says it was not).
    """
    lines = [f"{switch} {_STATUS[value]}"]
    if value == "IGNORED":
        return lines
    if switch == "DQICORR":
        lines.append("  values checked for saturation")
        if used:
            lines.append("  DQ array initialized ...")
    for ref in used:
        if ref.is_table:
            lines += table_history(ref.name, ref.pedigree, ref.descrip, ref.descrip2)
        else:
            lines += image_history(ref.name, ref.pedigree, ref.descrip)
    if switch == "PHOTCORR" and not tds_included:
        lines.append("  Note:  Time-dependent sensitivity was not included with PHOTCORR")
    return lines
