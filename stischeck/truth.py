"""Stored truth: calstis products laid out like the corpus, read by compare and written by record.

A truth folder holds, per configuration, ``<CONFIG>/<rootname>_flt.fits[.gz]``
and/or ``_crj``, with the trailer ``<CONFIG>/<rootname>.trl[.gz]``, and
optionally a ``manifest.json`` (the corpus README's layout)::

    manifest.json       calstis version, inputs with sha256, per step: switches,
                        exit status, products (shape, dtype, sha256 uncompressed)
    <rootname>_raw.fits.gz, oref/   the inputs the products were made from
    DQICORR/ BLEVCORR/ ...          one folder per configuration

When a manifest lists a configuration's switches, those are the switches the
products were made with, and a comparison against this truth must run both
sides with exactly those (the corpus, for instance, ran with EXPSCORR = OMIT
although its raw headers say PERFORM).
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["TruthSet", "load_truth", "MANIFEST", "PRODUCT_SUFFIXES"]

MANIFEST = "manifest.json"
PRODUCT_SUFFIXES = ("flt", "crj")


@dataclass(frozen=True)
class TruthSet:
    """A truth folder.

    Attributes
    ----------
    root : Path
        The folder.
    manifest : dict
        Its ``manifest.json`` (empty when there is none).
    step_switches : dict
        Configuration name -> {switch: value} as recorded in the manifest.
    """

    root: Path
    manifest: dict = field(default_factory=dict)
    step_switches: dict = field(default_factory=dict)

    def products(self, config_name: str, rootname: str) -> dict:
        """Suffix -> stored product path for one configuration (``.fits`` before ``.fits.gz``)."""
        found = {}
        for suffix in PRODUCT_SUFFIXES:
            for ext in (".fits", ".fits.gz"):
                path = self.root / config_name / f"{rootname}_{suffix}{ext}"
                if path.is_file():
                    found[suffix] = path
                    break
        return found

    def trailer(self, config_name: str, rootname: str) -> Path | None:
        """The stored calstis trailer of one configuration, if any."""
        for ext in (".trl", ".trl.gz"):
            path = self.root / config_name / f"{rootname}{ext}"
            if path.is_file():
                return path
        return None

    @property
    def calstis_version(self) -> str | None:
        """The calstis version the manifest records."""
        cal = self.manifest.get("calstis") or {}
        return cal.get("version") if isinstance(cal, dict) else None


def load_truth(root) -> TruthSet:
    """
    Open a truth folder.

    Raises
    ------
    InputFileError
        The folder does not exist, or its manifest is not valid JSON.
    """
    from stischeck.errors import InputFileError

    root = Path(root)
    if not root.is_dir():
        raise InputFileError(f"{root}: truth folder not found")
    path = root / MANIFEST
    if not path.is_file():
        return TruthSet(root)
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise InputFileError(f"{path}: not a readable truth manifest ({err})") from err
    steps = {}
    for entry in manifest.get("steps", []) if isinstance(manifest, dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("switches"), dict):
            steps[str(entry.get("step"))] = {
                str(k).upper(): str(v).upper() for k, v in entry["switches"].items()
            }
    return TruthSet(root, manifest if isinstance(manifest, dict) else {}, steps)
