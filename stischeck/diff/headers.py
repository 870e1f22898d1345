"""Header comparison with its own policy: ignored keywords, exact strings, numeric tolerances."""

from dataclasses import dataclass

__all__ = ["KeywordDifference", "compare_headers", "REPRESENTATION_KEYWORDS"]

#: Keywords that describe how the pixels are stored, not what they are; the data
#: comparison already reports shape and dtype changes.
REPRESENTATION_KEYWORDS = frozenset(
    {"SIMPLE", "EXTEND", "XTENSION", "BITPIX", "PCOUNT", "GCOUNT", "BZERO", "BSCALE",
     "PIXVALUE", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "NPIX1", "NPIX2", "NPIX3", ""}
)  # fmt: skip


@dataclass(frozen=True)
class KeywordDifference:
    """One keyword that differs (or differs within a stated tolerance).

    ``status`` is ``"differ"``, ``"within"`` (a tolerance allowed it; ``rule``
    says which), ``"only_a"`` or ``"only_b"``.
    """

    extname: str
    extver: int
    keyword: str
    a: object
    b: object
    status: str
    rule: str = ""

    @property
    def is_difference(self) -> bool:
        """True unless a tolerance allowed it."""
        return self.status != "within"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compare_headers(
    header_a,
    header_b,
    *,
    extname: str,
    extver: int,
    policy,
    step: str,
    cards_a: dict | None = None,
    cards_b: dict | None = None,
) -> list:
    """
    Compare two FITS headers keyword by keyword under ``policy``.

    Strings (switches PERFORM/COMPLETE/SKIPPED/OMIT among them) compare exactly,
    trailing blanks aside (FITS does not distinguish them); booleans exactly;
    numbers with the policy's keyword tolerance ``|a - b| <= atol + rtol *
    max(|a|, |b|)`` (exact by default); a keyword on one side only is a difference.
    Repeated commentary cards and the policy's ignored keywords are skipped.

    ``cards_a``/``cards_b`` (keyword -> stored 80-character card) let a
    keyword whose two cards are identical pass without parsing its value.

    Returns
    -------
    list of KeywordDifference
        Empty when the headers agree exactly.
    """
    found = []
    cards_a, cards_b = cards_a or {}, cards_b or {}
    same = {k for k, card in cards_a.items() if cards_b.get(k) == card}

    def keys(header) -> dict:
        out = {}
        for key in header:
            if key in REPRESENTATION_KEYWORDS or key in out or policy.ignores(key):
                continue
            out[key] = None if key in same else header[key]
        return out

    values_a, values_b = keys(header_a), keys(header_b)
    for key, a in values_a.items():
        if key not in values_b:
            found.append(KeywordDifference(extname, extver, key, a, None, "only_a"))
            continue
        if key in same:
            continue
        b = values_b[key]
        if _is_number(a) and _is_number(b):
            if a == b:
                continue
            rule = policy.keyword_rule(key, step, extname)
            if rule is not None and abs(a - b) <= rule.atol + rule.rtol * max(abs(a), abs(b)):
                found.append(
                    KeywordDifference(extname, extver, key, a, b, "within", rule.describe())
                )
            else:
                found.append(KeywordDifference(extname, extver, key, a, b, "differ"))
        elif isinstance(a, str) and isinstance(b, str):
            if a.rstrip() != b.rstrip():
                found.append(KeywordDifference(extname, extver, key, a, b, "differ"))
        elif type(a) is not type(b) or a != b:
            found.append(KeywordDifference(extname, extver, key, a, b, "differ"))
    for key, b in values_b.items():
        if key not in values_a:
            found.append(KeywordDifference(extname, extver, key, None, b, "only_b"))
    return found
