"""Read a ``stischeck compare`` output folder: the tables, the summary, and where products are.

The folder is the report's only input (its contract is written by
``stischeck/compare/tables.py``): ``verdicts.csv``, ``statistics.csv``,
``runs.csv``, ``configurations.csv``, ``summary.json``, ``provenance.json``
and the products under ``runs/<CONFIG>/<side>/``. Nothing here judges
agreement; verdicts are read, never recomputed.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from stischeck.errors import InputFileError
from stischeck.outdir import outdir_status

__all__ = [
    "CompareFolder",
    "load_folder",
    "REQUIRED_FILES",
    "comparison_sides",
    "ProductReader",
    "ReportInputs",
    "Trailer",
    "read_inputs",
]

#: Files every compare folder has; without them there is nothing to render.
REQUIRED_FILES = (
    "summary.json",
    "provenance.json",
    "verdicts.csv",
    "runs.csv",
    "configurations.csv",
)
#: Product suffixes in display order: the combined image before the per-imset one.
SUFFIX_ORDER = ("crj", "flt")


def comparison_sides(comparison: str) -> tuple[str, str]:
    """
    The two sides of a comparison name, ``"reference-vs-calstis"`` -> ``("reference", "calstis")``.

    The first side is file A of every diff (``statistics.csv`` columns ``a``,
    ``bit_only_a``), the second is file B.
    """
    a, sep, b = comparison.partition("-vs-")
    if not sep:
        raise ValueError(f"not a comparison name: {comparison!r}")
    return a, b


@dataclass(frozen=True)
class RunRow:
    """One row of runs.csv: what one side did for one configuration."""

    configuration: str
    side: str
    status: str
    message: str
    returncode: float | None
    wall_s: float | None
    peak_rss_mib: float | None
    products: dict  # suffix -> absolute Path
    trailer: Path | None


@dataclass
class CompareFolder:
    """Everything read from a compare folder, as plain Python and pandas objects.

    Attributes
    ----------
    path : Path
        The folder.
    summary, provenance : dict
        ``summary.json`` and ``provenance.json``.
    verdicts, statistics, configurations : pandas.DataFrame
        The CSV tables (``statistics`` may be empty).
    runs : dict
        ``(configuration, side)`` -> `RunRow`.
    config_names : list of str
        Configurations in the order compare ran them (the ladder order).
    rootname : str
    primary : str
        The primary comparison (``"reference-vs-calstis"`` or ``"reference-vs-truth"``).
    """

    path: Path
    summary: dict
    provenance: dict
    verdicts: object
    statistics: object
    configurations: object
    runs: dict
    config_names: list
    rootname: str
    primary: str
    notes: list = field(default_factory=list)
    _switches: dict | None = field(default=None, repr=False)

    @property
    def sides(self) -> tuple[str, str]:
        """(baseline, reference) of the primary comparison: ``("calstis", "reference")``.

        The baseline (calstis, or the stored truth) is shown on the left, the
        reference on the right; differences are reference minus baseline, as
        in ``statistics.csv`` (file A minus file B).
        """
        a, b = comparison_sides(self.primary)
        return b, a

    def switches(self, config: str) -> dict:
        """Switch -> value of one configuration (configurations.csv)."""
        if self._switches is None:
            self._switches = {}
            for row in self.configurations.to_dict("records"):
                name = str(row.pop("configuration"))
                self._switches[name] = {k: str(v) for k, v in row.items()}
        return dict(self._switches.get(config, {}))

    def performed(self, config: str) -> list:
        """The switches a configuration sets to PERFORM, in header order."""
        return [k for k, v in self.switches(config).items() if v == "PERFORM"]

    def added(self, config: str) -> str | None:
        """
        The switch a rung of the cumulative ladder adds to the previous rung, else None.

        Ladder rungs are named after the switch they add (``BIASCORR``); a rung
        counts only when it performs the previous rung's switches and one more.
        ``only-DARKCORR`` and ``set-...`` configurations add nothing to anything.
        """
        from stischeck.config import LADDER, PHOTCORR_RUNG

        if config not in (*LADDER, PHOTCORR_RUNG) or config not in self.config_names:
            return None
        k = self.config_names.index(config)
        now = set(self.performed(config)) - {"EXPSCORR"}
        before = set(self.performed(self.config_names[k - 1])) - {"EXPSCORR"} if k else set()
        new = now - before
        return config if new == {config} and before <= now else None

    def products(self, config: str, side: str) -> dict:
        """Suffix -> Path of the products one side wrote for one configuration (may be empty)."""
        if side == "truth":
            return self._truth_products(config)
        run = self.runs.get((config, side))
        if run is None:
            return {}
        return {s: run.products[s] for s in SUFFIX_ORDER if s in run.products}

    def raw_input(self, config: str, side: str) -> Path | None:
        """The raw file one side read for one configuration (its input copy), or the user's raw."""
        for s in ("input", side, "reference", "calstis"):  # "input": shared by both sides
            path = self.path / "runs" / config / s / f"{self.rootname}_raw.fits"
            if path.is_file():
                return path
        raw = Path(str(self.provenance.get("raw", {}).get("path", "")))
        return raw if raw.is_file() else None

    def run_status(self, config: str, side: str) -> tuple[str, str]:
        """(status, message) of one side's run; truth is "ok" when its products exist."""
        if side == "truth":
            return ("ok", "") if self._truth_products(config) else ("missing", "no stored product")
        run = self.runs.get((config, side))
        if run is None:
            return "missing", "not run"
        return run.status, run.message

    def truth_dir(self) -> Path | None:
        """The stored-truth folder named in provenance.json, if it can be found."""
        value = self.provenance.get("truth")
        if not value:
            return None
        path = Path(value)
        for candidate in (path, self.path / path, self.path.parent / path):
            if candidate.is_dir():
                return candidate
        return None

    def _truth_products(self, config: str) -> dict:
        base = self.truth_dir()
        if base is None:
            return {}
        found = {}
        for suffix in SUFFIX_ORDER:
            for ext in (".fits", ".fits.gz"):
                path = base / config / f"{self.rootname}_{suffix}{ext}"
                if path.is_file():
                    found[suffix] = path
                    break
        return found


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(f"{path}: cannot be read ({err.strerror or err})") from err
    except json.JSONDecodeError as err:
        raise InputFileError(f"{path}: not valid JSON ({err.msg}, line {err.lineno})") from err
    if not isinstance(value, dict):
        raise InputFileError(f"{path}: not a JSON object")
    return value


def _check_tables(path: Path, tables) -> None:
    """Each table must be the one compare wrote: the sha256 summary.json records for it."""
    import hashlib

    if not isinstance(tables, dict):
        return  # a folder written before summary.json recorded its tables
    for name, entry in sorted(tables.items()):
        file = path / name
        try:
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
        except OSError as err:
            raise InputFileError(f"{file}: cannot be read ({err.strerror})") from err
        if isinstance(entry, dict) and digest != entry.get("sha256"):
            raise InputFileError(
                f"{file}: truncated or changed since compare wrote it "
                f"(summary.json records {entry.get('rows')} rows and another checksum)"
            )


def _read_csv(path: Path, required: tuple = ()):
    import pandas as pd

    try:
        frame = pd.read_csv(path, keep_default_na=True, low_memory=False)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise InputFileError(f"{path}: not a readable CSV table ({reason})") from err
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputFileError(
            f"{path}: missing column(s) {', '.join(missing)}; not written by stischeck compare?"
        )
    return frame


def _text(value) -> str:
    """A CSV cell as text: NaN (pandas' empty cell) becomes ''."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _number(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if out != out else out


def _check_folder(path: Path) -> None:
    """The folder exists, has `REQUIRED_FILES` and a complete compare run in it."""
    if not path.exists():
        raise InputFileError(f"{path}: compare output folder not found")
    if not path.is_dir():
        raise InputFileError(f"{path}: not a folder (give the --outdir of stischeck compare)")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise InputFileError(
            f"{path}: not a stischeck compare output folder (no {', '.join(missing)}); "
            "run stischeck compare RAW --outdir DIR first"
        )
    status = outdir_status(path)
    if status not in (None, "complete"):
        raise InputFileError(
            f"{path}: incomplete compare run (status {status!r}); its tables are no result, "
            "rerun stischeck compare"
        )


def _runs(path: Path, runs_frame) -> dict:
    """runs.csv as ``(configuration, side)`` -> `RunRow`, paths made absolute."""
    runs = {}
    for row in runs_frame.to_dict("records"):
        products = {}
        for rel in _text(row.get("products")).split():
            p = Path(rel)
            p = p if p.is_absolute() else path / p
            suffix = p.name.split(".fits")[0].rsplit("_", 1)[-1]
            products[suffix] = p
        trailer = _text(row.get("trailer"))
        runs[row["configuration"], row["side"]] = RunRow(
            configuration=str(row["configuration"]),
            side=str(row["side"]),
            status=_text(row.get("status")),
            message=_text(row.get("message")),
            returncode=_number(row.get("returncode")),
            wall_s=_number(row.get("wall_s")),
            peak_rss_mib=_number(row.get("peak_rss_mib")),
            products=products,
            trailer=(Path(trailer) if Path(trailer).is_absolute() else path / trailer)
            if trailer
            else None,
        )

    return runs


def load_folder(path) -> CompareFolder:
    """
    Read and check a compare output folder.

    Parameters
    ----------
    path : str or Path
        The ``--outdir`` of a ``stischeck compare`` run.

    Returns
    -------
    CompareFolder

    Raises
    ------
    InputFileError
        The folder does not exist, lacks one of `REQUIRED_FILES`, or a table
        cannot be read (one line naming the file).
    """
    import pandas as pd

    path = Path(path)
    _check_folder(path)
    summary = _read_json(path / "summary.json")
    provenance = _read_json(path / "provenance.json")
    for key in ("primary_comparison", "configurations"):
        if key not in summary:
            raise InputFileError(f"{path / 'summary.json'}: no {key!r}; not written by compare?")
    _check_tables(path, summary.get("tables"))
    verdicts = _read_csv(
        path / "verdicts.csv",
        ("configuration", "comparison", "product", "extname", "imset", "verdict"),
    )
    for col in ("product", "extname", "detail", "dq_bits"):
        if col in verdicts.columns:
            verdicts[col] = verdicts[col].map(_text)
    statistics = (
        _read_csv(path / "statistics.csv")
        if (path / "statistics.csv").is_file()
        else pd.DataFrame()
    )
    runs_frame = _read_csv(path / "runs.csv", ("configuration", "side", "status"))
    configurations = _read_csv(path / "configurations.csv", ("configuration",))

    runs = _runs(path, runs_frame)

    names = [str(n) for n in configurations["configuration"]]
    for name in summary["configurations"]:
        if name not in names:
            names.append(name)
    rootname = str(provenance.get("raw", {}).get("rootname", "")).strip()
    if not rootname:
        raise InputFileError(f"{path / 'provenance.json'}: no raw.rootname")
    return CompareFolder(
        path=path,
        summary=summary,
        provenance=provenance,
        verdicts=verdicts,
        statistics=statistics,
        configurations=configurations,
        runs=runs,
        config_names=names,
        rootname=rootname,
        primary=str(summary["primary_comparison"]),
    )


# --------------------------------------------------------------------------- report inputs


class ProductReader:
    """
    The report's only way to a product's pixels: read each file once, cache it.

    Products are read on first use rather than all before building, so that a
    ladder of full-frame products is never all in memory at once; `forget`
    drops what a finished configuration no longer needs. An unreadable file
    is remembered as a one-line note instead of failing the report.
    """

    def __init__(self):
        self.cache: dict = {}
        self.errors: dict = {}

    def get(self, path: Path | None):
        """The `fitsio.ProductData` of ``path``, or None (no path, or unreadable: see `error`)."""
        from stischeck.fits.imsets import read_imsets

        if path is None:
            return None
        key = str(path)
        if key in self.errors:
            return None
        if key not in self.cache:
            not_kept = _not_kept_note(path)
            if not_kept:
                self.errors[key] = not_kept
                return None
            try:
                self.cache[key] = read_imsets(path)
            except InputFileError as err:
                self.errors[key] = str(err)
                return None
        return self.cache[key]

    def error(self, path: Path | None) -> str:
        """Why ``path`` could not be read ('' when it could, or was never tried)."""
        return self.errors.get(str(path), "") if path is not None else ""

    def forget(self, keep=()) -> None:
        """Drop every cached product but those in ``keep``."""
        keep = {str(p) for p in keep}
        for key in list(self.cache):
            if key not in keep:
                del self.cache[key]


@dataclass(frozen=True)
class Trailer:
    """One trailer file's text: what one side of one configuration logged."""

    config: str
    side: str
    path: Path
    text: str


@dataclass(frozen=True)
class ReportInputs:
    """
    Everything the report builders read, gathered before building.

    Attributes
    ----------
    folder : CompareFolder
        The tables and where the products are.
    products : ProductReader
        The products' pixels, read on first use (see `ProductReader`).
    trailers : tuple of Trailer
        Each configuration's trailers in display order (sides, then ``truth``).
    truth_calstis : str
        The cs0.e version the stored truth's manifest records ('' when none).
    trailer_changes : tuple of dict
        Rows of ``trailers.csv`` (build A's trailer against build B's), if any.
    """

    folder: CompareFolder
    products: ProductReader
    trailers: tuple
    truth_calstis: str
    trailer_changes: tuple = ()


def read_inputs(folder: CompareFolder) -> ReportInputs:
    """Read what the report needs besides the tables: trailers and the truth's manifest."""
    return ReportInputs(
        folder=folder,
        products=ProductReader(),
        trailers=tuple(_read_trailers(folder)),
        truth_calstis=_truth_calstis_version(folder),
        trailer_changes=tuple(_read_trailer_changes(folder.path / "trailers.csv")),
    )


def _read_trailer_changes(path: Path) -> list:
    """The rows of a two-build comparison's ``trailers.csv`` (none when it has no such file)."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def _read_trailers(folder: CompareFolder) -> list:
    trailers = []
    truth = folder.truth_dir()
    for config in folder.config_names:
        sides = {s for (c, s) in folder.runs if c == config}
        for side in sorted(sides, key=lambda s: (s.startswith("step"), s)):
            run = folder.runs[config, side]
            if run.trailer is None:
                continue
            try:
                text = run.trailer.read_text(errors="replace")
            except OSError as err:
                text = f"(cannot read {run.trailer}: {err.strerror})"
            trailers.append(Trailer(config, side, run.trailer, text))
        for ext in (".trl", ".trl.gz") if truth is not None else ():
            path = truth / config / f"{folder.rootname}{ext}"
            if path.is_file():
                trailers.append(Trailer(config, "truth", path, _read_text(path)))
                break
    return trailers


def _truth_calstis_version(folder: CompareFolder) -> str:
    """The calstis version the stored truth's manifest.json records, or ''."""
    truth = folder.truth_dir()
    if truth is None or not (truth / "manifest.json").is_file():
        return ""
    try:
        recorded = json.loads((truth / "manifest.json").read_text()).get("calstis") or {}
    except (OSError, ValueError, AttributeError):
        return ""
    return str(recorded.get("version") or "") if isinstance(recorded, dict) else ""


def _read_text(path: Path) -> str:
    """A trailer's text (gzip or plain); a note in its place when it cannot be read."""
    import gzip

    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8", errors="replace")
    except (OSError, EOFError) as err:
        return f"(cannot read {path}: {err})"


def _not_kept_note(path: Path) -> str:
    """Why a product removed by ``compare --keep differing`` is absent ('' if it is not)."""
    if path.exists():
        return ""
    for folder in path.parents:
        note = folder / "NOT-KEPT.txt"
        if note.is_file():
            return f"{path.name}: not kept: {note.read_text().strip()}"
        if folder.name == "runs":
            break
    return ""
