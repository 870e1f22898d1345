"""compare_headers on small headers: every card, occurrences, long strings, ignored keywords."""

from astropy.io import fits

from stischeck.diff import default_policy
from stischeck.diff.headers import compare_headers


def _read(header: fits.Header) -> fits.Header:
    """The header as a reader gets it from a file (cards with their stored text)."""
    return fits.Header.fromstring(header.tostring())


def _diff(a, b):
    return compare_headers(
        _read(a), _read(b), extname="SCI", extver=2, policy=default_policy(), step="*"
    )


def test_structural_cards_are_compared():
    a = fits.Header([("XTENSION", "IMAGE"), ("BITPIX", -32), ("NAXIS", 0), ("PIXVALUE", 0.0)])
    b = fits.Header([("XTENSION", "IMAGE"), ("BITPIX", 16), ("NAXIS", 0), ("PIXVALUE", 0)])
    found = _diff(a, b)
    assert [(k.keyword, k.a, k.b, k.status) for k in found] == [("BITPIX", -32, 16, "differ")]


def test_a_long_string_differing_in_its_continue_card_is_found():
    a, b = fits.Header(), fits.Header()
    a["LONGSTR"] = "x" * 100
    b["LONGSTR"] = "x" * 90 + "y" * 10
    assert [k.keyword for k in _diff(a, b)] == ["LONGSTR"]


def test_repeated_keywords_compare_occurrence_by_occurrence():
    a = fits.Header([("EXTVER", 2), ("BUNIT", "DN"), ("BUNIT", "DN")])
    b = fits.Header([("EXTVER", 2), ("BUNIT", "DN"), ("BUNIT", "ELECTRONS"), ("BUNIT", "DN")])
    found = _diff(a, b)
    assert [(k.label, k.status) for k in found] == [("BUNIT[2]", "differ"), ("BUNIT[3]", "only_b")]


def test_ignored_keywords_that_differ_are_returned_with_the_reason():
    a = fits.Header([("DATE", "2020-01-01"), ("EXPTIME", 1.0)])
    b = fits.Header([("DATE", "2030-01-01"), ("EXPTIME", 1.0)])
    a.add_history("one")
    b.add_history("one")
    b.add_history("two")
    found = _diff(a, b)
    assert [(k.keyword, repr(k.a), repr(k.b), k.status) for k in found] == [
        ("DATE", "'2020-01-01'", "'2030-01-01'", "ignored"),
        ("HISTORY", "1 card", "2 cards", "ignored"),
    ]
    assert found[0].rule == "date the file was written"
    assert not any(k.is_difference for k in found)
