"""Numbers in FITS header cards as calstis's I/O library (hstio) reads them.

hstio does not convert a card's digits with a correctly rounded ``strtod``.
It keeps at most 17 significant digits, in groups of at most nine (integer
part: 9 + 8; fraction: 9 + the rest), turns each group into a double, scales
it by an exact power of ten (multiplying for positive powers, dividing for
negative ones), and adds the scaled groups from the smallest to the largest.
The result can differ from the correctly rounded value in the last bit, and
that bit shows when calstis writes the value back with 13 significant digits
(``%.12E``): ``CD1_1 = -1.4105555555555E-05`` comes back as
``-1.410555555556E-05`` after BLEVCORR, where a correctly rounded read gives
``-1.410555555555E-05``. Source of the facts: hstcal ``hstio/numeric.c``
(``get_numeric``), read for its arithmetic.
"""

__all__ = ["card_double", "parse_hstio_double"]

_MAX_SIGNIFICANT = 17
_GROUP = 9
_POWERS_OF_TEN = [float(f"1e{k}") for k in range(309)]


def _scaled(group: int, power: int) -> float:
    if power > 0:
        return float(group) * _POWERS_OF_TEN[power]
    if power < 0:
        return float(group) / _POWERS_OF_TEN[-power]
    return float(group)


def parse_hstio_double(text: str) -> float:
    """
    The double hstio reads from a card's value field.

    Parameters
    ----------
    text : str
        The value field (for example ``"-1.4105555555555E-05"``); ``D`` exponents allowed.

    Returns
    -------
    float
        As calstis holds it in memory. Values outside the double range, which
        hstio checks separately, are returned as Python parses them.
    """
    s = text.strip().upper().replace("D", "E")
    negative = s.startswith("-")
    s = s.lstrip("+-")
    mantissa, _, exponent_text = s.partition("E")
    exponent = int(exponent_text) if exponent_text.strip("+-") else 0
    int_digits, point, frac_digits = mantissa.partition(".")
    int_digits = int_digits.lstrip("0")
    if not point and not exponent_text:
        return float(int(s or "0")) * (-1.0 if negative else 1.0)

    n_int = len(int_digits)  # significant digits of the integer part, all counted
    int_part1 = int(int_digits[:_GROUP] or "0")
    int_part2 = int(int_digits[_GROUP:_MAX_SIGNIFICANT] or "0")

    frac_offset = 0  # leading zeros of the fraction, when the integer part is zero
    if n_int == 0:
        stripped = frac_digits.lstrip("0")
        frac_offset = len(frac_digits) - len(stripped)
        frac_digits = stripped
    frac_digits = frac_digits.rstrip("0")
    n_frac = len(frac_digits)
    if n_int >= _MAX_SIGNIFICANT:
        n_frac = 0
    elif n_int + n_frac > _MAX_SIGNIFICANT:
        n_frac = _MAX_SIGNIFICANT - n_int
    frac_part1 = int(frac_digits[: min(n_frac, _GROUP)] or "0")
    frac_part2 = int(frac_digits[_GROUP:n_frac] or "0") if n_frac > _GROUP else 0

    if int_part1 == 0 and frac_part1 == 0:
        return 0.0
    value = 0.0 if frac_part2 == 0 else _scaled(frac_part2, exponent - n_frac - frac_offset)
    if frac_part1:
        value += _scaled(frac_part1, exponent - frac_offset - min(n_frac, _GROUP))
    if int_part1:
        if int_part2:
            value += _scaled(int_part2, max(n_int - _MAX_SIGNIFICANT, 0) + exponent)
        value += _scaled(int_part1, max(n_int - _GROUP, 0) + exponent)
    return -value if negative else value


def card_double(header, key: str, default: float) -> float:
    """``header[key]`` read as hstio reads a double (``default`` when absent or not numeric)."""
    if key not in header:
        return default
    value = header[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    image = header.cards[key].image
    field = image[10:80].split("/", 1)[0]
    try:
        return parse_hstio_double(field)
    except ValueError:
        return float(value)
