"""Keyword values as calstis writes them, and the groups of keywords a step sets.

The value types carry calstis's card text (hstio ``putFloatKw`` through
``Put_KeyF``: ``%#14.7E``; ``putDoubleKw``: ``%#20.12E``). The groups
(BinCoords' linear WCS, STATFLAG's statistics, PHOTCORR's photometry,
calstis2's ``_crj`` keywords) are built here from the numbers the steps
computed, so ``pipeline.py`` only says which step sets which group. The
order of each dict is the order calstis sets the keywords: a keyword the
header lacks is appended in that order.
"""

import numpy as np

from reference_impl.io.hstio_numbers import card_double
from reference_impl.numerics import DoubleKeyword, header_float

__all__ = [
    "PHOT_COMMENTS",
    "FloatKeyword",
    "crj_primary_keywords",
    "crj_sci_keywords",
    "double_keyword",
    "float_keyword",
    "photometry_keywords",
    "statistics_keywords",
    "trimmed_wcs_keywords",
]


class FloatKeyword(float):
    """A float keyword's value whose card text is calstis's ``%#14.7E`` (Put_KeyF)."""

    def __str__(self) -> str:
        return f"{float(self):.7E}"


def float_keyword(x) -> float:
    """A float keyword as calstis writes it: rounded to float32, 8 significant digits."""
    return FloatKeyword(f"{float(np.float32(x)):.7E}")


def double_keyword(x: float) -> float:
    """A double keyword as calstis writes it (``%#20.12E``, 13 significant digits)."""
    return DoubleKeyword(f"{float(x):.12E}")


def trimmed_wcs_keywords(sci_header, left: int, bottom: int) -> dict:
    """
    The linear WCS BinCoords (bincoords.c) writes once BLEVCORR trims the overscan.

    Parameters
    ----------
    sci_header : reference_impl.io.fitsheader.Header
        The imset's SCI header; its values are read as hstio reads them, with
        calstis's defaults.
    left, bottom : int
        Columns and rows trimmed from the left and bottom, pixels.

    Returns
    -------
    dict
        ``CRPIXn``, ``LTVn`` shifted by the trim, ``LTMn_n`` and ``CDi_j`` as
        read, each a 13-digit double, for SCI, ERR and DQ alike.
    """
    wcs = {
        "CRPIX1": card_double(sci_header, "CRPIX1", 0.0) - left,
        "CRPIX2": card_double(sci_header, "CRPIX2", 0.0) - bottom,
        "LTV1": card_double(sci_header, "LTV1", 0.0) - left,
        "LTV2": card_double(sci_header, "LTV2", 0.0) - bottom,
    }
    for key, default in (
        ("LTM1_1", 1.0), ("LTM2_2", 1.0),
        ("CD1_1", 1.0), ("CD1_2", 0.0), ("CD2_1", 0.0), ("CD2_2", 1.0),
    ):  # fmt: skip
        wcs[key] = card_double(sci_header, key, default)
    return {k: double_keyword(v) for k, v in wcs.items()}


def statistics_keywords(stats) -> tuple[dict, dict]:
    """
    STATFLAG's keywords (dostat.c) from `reference_impl.steps.statflag.ImsetStatistics`.

    Returns
    -------
    tuple of dict
        ``(sci, err)``: ``NGOODPIX`` in both; with good pixels also
        ``GOODMIN/MAX/MEAN`` (DN) and ``SNRMIN/MAX/MEAN`` in SCI and the ERR
        array's ``GOODMIN/MAX/MEAN`` (DN) in ERR, as float keywords.
    """
    sci = {"NGOODPIX": stats.ngoodpix}
    err = {"NGOODPIX": stats.ngoodpix}
    if stats.ngoodpix:
        for key, value in (
            ("GOODMIN", stats.goodmin),
            ("GOODMAX", stats.goodmax),
            ("GOODMEAN", stats.goodmean),
            ("SNRMIN", stats.snrmin),
            ("SNRMAX", stats.snrmax),
            ("SNRMEAN", stats.snrmean),
        ):
            sci[key] = header_float(value)
        for key, value in (
            ("GOODMIN", stats.err_goodmin),
            ("GOODMAX", stats.err_goodmax),
            ("GOODMEAN", stats.err_goodmean),
        ):
            err[key] = header_float(value)
    return sci, err


#: Comments calstis gives the photometry keywords (dophot.c).
PHOT_COMMENTS = {
    "PHOTFLAM": "inverse sensitivity",
    "PHOTZPT": "zero point",
    "PHOTPLAM": "pivot wavelength",
    "PHOTBW": "RMS bandwidth",
}


def photometry_keywords(values: dict, primary_header) -> dict:
    """
    PHOTCORR's primary keywords (dophot.c) as float keywords.

    Parameters
    ----------
    values : dict
        ``PHOTFLAM`` ... -> value, in the order dophot.c sets them.
    primary_header : reference_impl.io.fitsheader.Header
        The header they go into: Put_KeyF keeps an existing card's comment, a
        new card gets calstis's (``(value, comment)`` pairs).
    """
    keywords = {}
    for key, value in values.items():
        if key in primary_header:
            keywords[key] = float_keyword(value)
        else:
            keywords[key] = (float_keyword(value), PHOT_COMMENTS[key])
    return keywords


def crj_primary_keywords(result, params, *, meanexp_s, expstart, expend, cal_ver) -> dict:
    """
    The ``_crj`` primary keywords in calstis2's order (crrej_do.c, then cr_history.c).

    Parameters
    ----------
    result : reference_impl.steps.crcorr.CRRejectResult
    params : reference_impl.types.CRRejectParameters
    meanexp_s : float
        Mean exposure time of the stack, s.
    expstart, expend : float
        First EXPSTART and last EXPEND of the stack, MJD.
    cal_ver : str
        CAL_VER.
    """
    keywords = {
        "TEXPTIME": float_keyword(result.exptot_s),
        "SKYSUM": header_float(result.skysum_dn),
    }
    if result.exptot_s > 0:
        keywords["REJ_RATE"] = header_float(
            np.float32(np.float32(result.n_rejected) / result.exptot_s)
        )
    keywords.update(
        {
            "TEXPSTRT": double_keyword(expstart),
            "TEXPEND": double_keyword(expend),
            "INITGUES": params.initial,
            "SKYSUB": params.skysub,
            "CRSIGMAS": params.sigmas_text,
            "MEANEXP": header_float(np.float32(meanexp_s)),
            "CRRADIUS": header_float(params.radius_pix),
            "CRTHRESH": header_float(params.thresh),
            "SCALENSE": header_float(params.scalense_percent),
            "BADINPDQ": params.badinpdq,
            "CRMASK": params.crmask,
            "CRCORR": "COMPLETE",
            "CAL_VER": cal_ver,
        }
    )
    return keywords


def crj_sci_keywords(result, *, expstart, expend, ncombine: int, temptot) -> dict:
    """
    The ``_crj`` SCI keywords calstis2 sets over input imset 1's (crrej_do.c).

    ``temptot`` is the exposure-weighted OCCDHTAV sum (float32, deg C s): the
    mean ``OCCDHTAV`` is written only when it and the total time are > 0, as
    written text (%.7E) so the next stage's hstio read (PHOTCORR) sees calstis's value.
    """
    keywords = {
        "EXPTIME": float_keyword(result.exptot_s),
        "EXPSTART": double_keyword(expstart),
        "EXPEND": double_keyword(expend),
        "NCOMBINE": ncombine,
    }
    if result.exptot_s > 0 and temptot > 0:
        keywords["OCCDHTAV"] = float_keyword(np.float32(temptot / result.exptot_s))
    return keywords
