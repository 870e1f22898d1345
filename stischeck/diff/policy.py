"""Tolerance policy: which differences are acceptable, per step, extension, statistic and keyword.

A policy is a versioned TOML file (the shipped default, ``policies/exact.toml``,
demands bit-for-bit equality). Every tolerance carries a written reason, and the
per-pixel formula below is printed in every report:

    |a - b| <= atol + rtol * max(|a|, |b|)

It is symmetric in a and b, unlike ``numpy.isclose`` and astropy's FITSDiff,
which scale ``rtol`` by one side only. Data and header tolerances are separate.
DQ has no tolerance: bits are either identical or reported.

A policy file extends the shipped default (``extends = "exact"``, what a file
without ``extends`` means): it inherits the default's ignored keywords and
adds its own rules in front of the default's. ``extends = "none"`` starts from
nothing, and ``[headers] compare = [...]`` takes inherited keywords off the
ignore list.
"""

import fnmatch
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import tomllib

from stischeck.errors import InputFileError

__all__ = [
    "FORMULA",
    "DataRule",
    "KeywordRule",
    "Policy",
    "default_policy",
    "load_policy",
]

#: The per-pixel acceptance rule, printed in every report.
FORMULA = "|a - b| <= atol + rtol * max(|a|, |b|)"

STATISTICS = ("pixel", "ulp", "sigma", "fraction_outside")
FLOAT_EXTENSIONS = ("SCI", "ERR")


@dataclass(frozen=True)
class DataRule:
    """One data tolerance: a step pattern, an extension, a statistic, its limits, and why.

    Attributes
    ----------
    step, extension : str
        Shell-style patterns matched against the configuration name (e.g.
        ``"+FLATCORR"``, ``"*"``) and the EXTNAME (``"SCI"`` or ``"ERR"``).
    statistic : str
        ``"pixel"`` (``atol``, ``rtol``: the formula), ``"ulp"`` (``max_ulp``,
        float32 units in the last place), ``"sigma"`` (``max_sigma``: |ΔSCI|/ERR)
        or ``"fraction_outside"`` (``max_fraction`` of the pixels may fail the
        per-pixel rules).
    reason : str
        Why this is acceptable; printed wherever the rule lets a difference pass.
    """

    step: str
    extension: str
    statistic: str
    reason: str
    atol: float = 0.0
    rtol: float = 0.0
    max_ulp: int = 0
    max_sigma: float = 0.0
    max_fraction: float = 0.0

    def matches(self, step: str, extension: str) -> bool:
        """True when the rule applies to this step and extension."""
        return fnmatch.fnmatchcase(step, self.step) and fnmatch.fnmatchcase(
            extension, self.extension
        )

    def describe(self) -> str:
        """One line: statistic, limits, scope and reason."""
        limit = {
            "pixel": f"atol={self.atol:g}, rtol={self.rtol:g}",
            "ulp": f"max_ulp={self.max_ulp}",
            "sigma": f"max_sigma={self.max_sigma:g}",
            "fraction_outside": f"max_fraction={self.max_fraction:g}",
        }[self.statistic]
        return f"{self.statistic} ({limit}) for step {self.step!r} {self.extension}: {self.reason}"


@dataclass(frozen=True)
class KeywordRule:
    """A numeric header tolerance: |a - b| <= atol + rtol * max(|a|, |b|) for one keyword."""

    keyword: str
    reason: str
    atol: float = 0.0
    rtol: float = 0.0
    step: str = "*"
    extension: str = "*"

    def matches(self, keyword: str, step: str, extension: str) -> bool:
        """True when the rule applies to this keyword, step and extension."""
        return (
            fnmatch.fnmatchcase(keyword, self.keyword)
            and fnmatch.fnmatchcase(step, self.step)
            and fnmatch.fnmatchcase(extension, self.extension)
        )

    def describe(self) -> str:
        """One line: keyword, limits and reason."""
        return f"{self.keyword} atol={self.atol:g}, rtol={self.rtol:g}: {self.reason}"


@dataclass(frozen=True)
class Policy:
    """A parsed tolerance policy (immutable).

    Attributes
    ----------
    name, version, description : str
        Identification, printed in every report.
    source : str
        Where it was read from.
    data_rules : tuple of DataRule
    ignored_keywords : dict
        Keyword pattern -> reason; these are not compared.
    keyword_rules : tuple of KeywordRule
    extends : str
        The policy this one was built on (``"exact"``), or ``"none"``.
    """

    name: str
    version: str
    description: str
    source: str
    data_rules: tuple = ()
    ignored_keywords: dict = field(default_factory=dict)
    keyword_rules: tuple = ()
    extends: str = "none"
    # keyword -> ignore_reason(keyword): every header of every product asks again.
    _reasons: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def label(self) -> str:
        """``name vVERSION``, and what it extends."""
        base = "" if self.extends == "none" else f", extends {self.extends}"
        return f"{self.name} v{self.version}{base}"

    def rules_for(self, step: str, extension: str) -> dict:
        """Statistic -> the first matching `DataRule`, for one step and extension."""
        found = {}
        for rule in self.data_rules:
            if rule.statistic not in found and rule.matches(step, extension):
                found[rule.statistic] = rule
        return found

    def ignores(self, keyword: str) -> bool:
        """True when ``keyword`` is on the ignore list (patterns allowed)."""
        return self.ignore_reason(keyword) is not None

    def ignore_reason(self, keyword: str):
        """The reason ``keyword`` is not compared (first matching pattern), or None."""
        try:
            return self._reasons[keyword]
        except KeyError:
            pass
        reason = next(
            (why for pattern, why in self.ignored_keywords.items()
             if fnmatch.fnmatchcase(keyword, pattern)),
            None,
        )  # fmt: skip
        self._reasons[keyword] = reason
        return reason

    def keyword_rule(self, keyword: str, step: str, extension: str):
        """The first `KeywordRule` for this keyword, step and extension, or None."""
        for rule in self.keyword_rules:
            if rule.matches(keyword, step, extension):
                return rule
        return None


def default_policy() -> Policy:
    """The shipped policy, ``exact``: bit for bit."""
    text = resources.files("stischeck.diff").joinpath("policies/exact.toml").read_text("utf-8")
    return parse_policy(text, source="stischeck/diff/policies/exact.toml (default)")


def load_policy(path) -> Policy:
    """Read a policy TOML file; a bad file raises `InputFileError` naming it and the problem."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{path}: policy file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(f"{path}: cannot read policy file ({err})") from None
    return parse_policy(text, source=str(path))


#: What ``extends`` may name.
BASES = ("exact", "none")


def parse_policy(text: str, *, source: str) -> Policy:
    """
    Parse and validate policy TOML text.

    ``extends`` (default ``"exact"``, the shipped policy) names the policy this
    one adds to: its ignored keywords are kept (``headers.compare`` lists those
    to compare after all), its data and keyword rules follow this file's own
    (the first matching rule wins, so this file's rules take precedence).
    ``extends = "none"`` uses this file's rules only.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputFileError(f"{source}: not valid TOML ({err})") from None

    def bad(problem: str):
        return InputFileError(f"{source}: {problem}")

    if doc.get("schema_version") != 1:
        raise bad(f"schema_version must be 1, found {doc.get('schema_version')!r}")
    for key in ("name", "version"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise bad(f"'{key}' must be a non-empty string")
    extends = doc.get("extends", "exact")
    if extends not in BASES:
        raise bad(f"extends must be one of {BASES}, found {extends!r}")

    data_rules = []
    for k, entry in enumerate(doc.get("data", []), start=1):
        where = f"[[data]] #{k}"
        unknown = set(entry) - {
            "step",
            "extension",
            "statistic",
            "reason",
            "atol",
            "rtol",
            "max_ulp",
            "max_sigma",
            "max_fraction",
        }
        if unknown:
            raise bad(f"{where}: unknown field(s) {sorted(unknown)}")
        if not str(entry.get("reason", "")).strip():
            raise bad(f"{where}: every tolerance needs a 'reason'")
        statistic = entry.get("statistic")
        if statistic not in STATISTICS:
            raise bad(f"{where}: statistic must be one of {STATISTICS}, found {statistic!r}")
        extension = str(entry.get("extension", "*")).upper()
        if fnmatch.fnmatchcase("DQ", extension):
            if extension != "*":
                raise bad(f"{where}: DQ takes no tolerance (bits are identical or reported)")
        if statistic == "sigma" and not fnmatch.fnmatchcase("SCI", extension):
            raise bad(f"{where}: the sigma statistic applies to SCI only")
        values = {}
        for name in ("atol", "rtol", "max_sigma", "max_fraction"):
            value = entry.get(name, 0.0)
            if not isinstance(value, (int, float)) or value < 0:
                raise bad(f"{where}: {name} must be a number >= 0")
            values[name] = float(value)
        if values["max_fraction"] > 1:
            raise bad(f"{where}: max_fraction is a fraction (0 to 1)")
        max_ulp = entry.get("max_ulp", 0)
        if not isinstance(max_ulp, int) or max_ulp < 0:
            raise bad(f"{where}: max_ulp must be an integer >= 0")
        data_rules.append(
            DataRule(
                step=str(entry.get("step", "*")),
                extension=extension,
                statistic=statistic,
                reason=str(entry["reason"]).strip(),
                max_ulp=max_ulp,
                **values,
            )
        )

    headers = doc.get("headers", {})
    unknown = set(headers) - {"ignore", "tolerance", "compare"}
    if unknown:
        raise bad(f"[headers]: unknown field(s) {sorted(unknown)}")
    base = default_policy() if extends == "exact" else None
    compare = headers.get("compare", [])
    if not isinstance(compare, list) or not all(isinstance(k, str) for k in compare):
        raise bad("headers.compare must be a list of keywords")
    compare = {k.upper() for k in compare}
    inherited = {} if base is None else dict(base.ignored_keywords)
    missing = sorted(compare - set(inherited))
    if missing:
        raise bad(f"headers.compare: {missing} not on the inherited ignore list")
    ignored = {k: reason for k, reason in inherited.items() if k not in compare}
    for k, entry in enumerate(headers.get("ignore", []), start=1):
        if not isinstance(entry, dict) or not entry.get("keyword") or not entry.get("reason"):
            raise bad(f"headers.ignore #{k}: needs 'keyword' and 'reason'")
        ignored[str(entry["keyword"]).upper()] = str(entry["reason"])
    keyword_rules = []
    for k, entry in enumerate(headers.get("tolerance", []), start=1):
        where = f"[[headers.tolerance]] #{k}"
        if not entry.get("keyword") or not str(entry.get("reason", "")).strip():
            raise bad(f"{where}: needs 'keyword' and 'reason'")
        atol, rtol = entry.get("atol", 0.0), entry.get("rtol", 0.0)
        if not all(isinstance(v, (int, float)) and v >= 0 for v in (atol, rtol)):
            raise bad(f"{where}: atol and rtol must be numbers >= 0")
        keyword_rules.append(
            KeywordRule(
                keyword=str(entry["keyword"]).upper(),
                reason=str(entry["reason"]).strip(),
                atol=float(atol),
                rtol=float(rtol),
                step=str(entry.get("step", "*")),
                extension=str(entry.get("extension", "*")).upper(),
            )
        )
    return Policy(
        name=doc["name"],
        version=doc["version"],
        description=str(doc.get("description", "")),
        source=source,
        data_rules=tuple(data_rules) + (base.data_rules if base else ()),
        ignored_keywords=ignored,
        keyword_rules=tuple(keyword_rules) + (base.keyword_rules if base else ()),
        extends=extends if base is None else f"{base.name} v{base.version}",
    )
