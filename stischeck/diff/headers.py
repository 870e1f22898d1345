"""Header comparison with its own policy: every card, ignored keywords said, numeric tolerances."""

from dataclasses import dataclass

from stischeck.fits.stored_header import StoredCard

__all__ = ["CardCount", "KeywordDifference", "compare_headers", "REPRESENTATION_KEYWORDS"]

#: Cards that describe how the pixels are stored (type, axes, null-extension
#: constant). They are compared like every other card; a finding about the data
#: of the same extension (shape, data type, null versus stored) names them with it.
REPRESENTATION_KEYWORDS = frozenset(
    {"SIMPLE", "EXTEND", "XTENSION", "BITPIX", "PCOUNT", "GCOUNT", "BZERO", "BSCALE",
     "PIXVALUE", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "NPIX1", "NPIX2", "NPIX3"}
)  # fmt: skip


@dataclass(frozen=True)
class KeywordDifference:
    """One keyword that differs, differs within a stated tolerance, or differs but is ignored.

    ``status`` is ``"differ"``, ``"within"`` (a tolerance allowed it; ``rule``
    says which), ``"only_a"``, ``"only_b"`` or ``"ignored"`` (the policy does
    not compare this keyword; ``rule`` is its reason, ``a``/``b`` the values or
    card counts). ``occurrence`` is 1 for the first card with this keyword, 2
    for the second (HISTORY, a keyword written twice), and so on.
    """

    extname: str
    extver: int
    keyword: str
    a: object
    b: object
    status: str
    rule: str = ""
    occurrence: int = 1

    @property
    def is_difference(self) -> bool:
        """True unless a tolerance allowed it or the policy ignores the keyword."""
        return self.status not in ("within", "ignored")

    @property
    def label(self) -> str:
        """The keyword, with ``[n]`` for its n-th card when n > 1 (as FITSDiff writes it)."""
        return self.keyword if self.occurrence == 1 else f"{self.keyword}[{self.occurrence}]"


class CardCount(int):
    """How many cards carry an ignored keyword (HISTORY ...); prints as ``"12 cards"``."""

    def __repr__(self) -> str:
        return f"{int(self)} card" + ("" if self == 1 else "s")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cards(header) -> dict:
    """(keyword, occurrence) -> Card, in header order; blank cards left out (as FITSDiff does)."""
    out, seen = {}, {}
    for card in header.cards:
        key = card.keyword
        if not key:
            continue
        n = seen[key] = seen.get(key, 0) + 1
        out[(key, n)] = card
    return out


def _stored_image(card):
    """The card's text as read from its file (CONTINUE cards included), or None if unknown."""
    if isinstance(card, StoredCard):
        return card.image
    image = getattr(card, "_image", None)
    if image and not getattr(card, "_modified", True):
        return image
    return None


def _same_value(a, b) -> bool:
    """Equal as FITS values: strings up to trailing blanks, numbers by value, else by type too."""
    if isinstance(a, str) and isinstance(b, str):
        return a.rstrip() == b.rstrip()
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


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
    Compare two FITS headers card by card under ``policy``.

    Every keyword is compared, the structural ones (SIMPLE, BITPIX, NAXISn,
    PCOUNT, GCOUNT, EXTEND, BZERO, NPIXn, PIXVALUE) included, occurrence by
    occurrence (the second HISTORY card with the second). Strings (switches
    PERFORM/COMPLETE/SKIPPED/OMIT among them) compare exactly, trailing blanks
    aside (FITS does not distinguish them); booleans exactly; numbers with the
    policy's keyword tolerance ``|a - b| <= atol + rtol * max(|a|, |b|)``
    (exact by default); a keyword on one side only is a difference. Blank
    cards are not compared, and card comments are not compared.

    A keyword the policy ignores is not compared, but when its cards differ
    one ``"ignored"`` entry per keyword says so, with the policy's reason.

    ``cards_a``/``cards_b`` are accepted for compatibility and not used: a card
    whose stored text is identical on both sides passes without parsing its value.

    Returns
    -------
    list of KeywordDifference
        Empty when the headers agree exactly and no ignored keyword differs.
    """
    del cards_a, cards_b
    found = []
    entries_a, entries_b = _cards(header_a), _cards(header_b)
    ignored = {}  # keyword -> ([values in a], [values in b])
    for (key, n), card_a in entries_a.items():
        card_b = entries_b.get((key, n))
        image_a = _stored_image(card_a)
        if card_b is not None and image_a is not None and image_a == _stored_image(card_b):
            if policy.ignores(key):
                ignored.setdefault(key, ([], []))
            continue
        if policy.ignores(key):
            ignored.setdefault(key, ([], []))
            continue
        a = card_a.value
        if card_b is None:
            found.append(KeywordDifference(extname, extver, key, a, None, "only_a", "", n))
            continue
        b = card_b.value
        if _same_value(a, b):
            continue
        if _is_number(a) and _is_number(b):
            rule = policy.keyword_rule(key, step, extname)
            if rule is not None and abs(a - b) <= rule.atol + rule.rtol * max(abs(a), abs(b)):
                found.append(
                    KeywordDifference(extname, extver, key, a, b, "within", rule.describe(), n)
                )
                continue
        found.append(KeywordDifference(extname, extver, key, a, b, "differ", "", n))
    for (key, n), card_b in entries_b.items():
        if (key, n) in entries_a:
            continue
        if policy.ignores(key):
            ignored.setdefault(key, ([], []))
            continue
        found.append(KeywordDifference(extname, extver, key, None, card_b.value, "only_b", "", n))
    for key in ignored:
        found += _ignored(key, header_a, header_b, extname, extver, policy)
    return found


def _ignored(key, header_a, header_b, extname, extver, policy) -> list:
    """One ``"ignored"`` entry when the cards of an ignored keyword differ in number or value."""
    cards_a = [c for c in header_a.cards if c.keyword == key]
    cards_b = [c for c in header_b.cards if c.keyword == key]
    images_a = [_stored_image(c) for c in cards_a]
    if None not in images_a and images_a == [_stored_image(c) for c in cards_b]:
        return []  # the same text: the same values, without parsing one
    values_a = [c.value for c in cards_a]
    values_b = [c.value for c in cards_b]
    if len(values_a) == len(values_b) and all(
        _same_value(a, b) for a, b in zip(values_a, values_b, strict=True)
    ):
        return []
    occurrence = 1
    if len(values_a) <= 1 and len(values_b) <= 1:
        a = values_a[0] if values_a else None
        b = values_b[0] if values_b else None
    elif len(values_a) == len(values_b):  # the first card that differs
        occurrence, a, b = next(
            (n, a, b)
            for n, (a, b) in enumerate(zip(values_a, values_b, strict=True), start=1)
            if not _same_value(a, b)
        )
    else:
        a, b = CardCount(len(values_a)), CardCount(len(values_b))
    reason = policy.ignore_reason(key)
    return [KeywordDifference(extname, extver, key, a, b, "ignored", reason, occurrence)]
