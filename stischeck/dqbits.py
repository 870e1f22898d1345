"""STIS data-quality bits as the harness names them (hstcal ``pkg/stis/include/stisdq.h``).

The comparator and the report name DQ bits from this table, not from
`reference_impl.dqflags`: the judge shares no code with the implementation it
judges. ``tests/unit/test_dqbits.py`` holds the two tables equal.
"""

__all__ = ["DQ_BITS", "DQ_MEANINGS"]

#: name -> (value, meaning) of every STIS DQ bit, lowest first (stisdq.h, spec §13).
_TABLE = (
    ("SOFTERR", 1, "Reed-Solomon decoding error"),
    ("DATALOST", 2, "data replaced by fill value"),
    ("DETECTORPROB", 4, "bad detector pixel or beyond aperture"),
    ("DATAMASKED", 8, "masked by occulting bar"),
    ("HOTPIX", 16, "hot pixel"),
    ("LARGEBLEM", 32, "large blemish"),
    ("UNUSED_64", 64, "(unused)"),
    ("OVERSCAN", 128, "overscan (never set by calstis)"),
    ("SATPIXEL", 256, "saturated pixel"),
    ("CALIBDEFECT", 512, "bad pixel in reference file"),
    ("SMALLBLEM", 1024, "small blemish"),
    ("X1D_BAD_BACKGROUND", 2048, "bad background in 1-D extraction"),
    ("X1D_DISCARDED", 4096, "discarded in 1-D extraction"),
    ("DATAREJECT", 8192, "rejected during image combination (cosmic ray)"),
    ("NOT_CTI_CORR", 16384, "not CTI corrected"),
)

#: name -> bit value.
DQ_BITS: dict[str, int] = {name: value for name, value, _ in _TABLE}
#: name -> what the bit means.
DQ_MEANINGS: dict[str, str] = {name: meaning for name, _, meaning in _TABLE}
