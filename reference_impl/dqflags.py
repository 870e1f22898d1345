"""STIS data-quality bits (hstcal ``pkg/stis/include/stisdq.h``).

This is the only module that spells out a bit value; everything else refers to
the bits by name. DQ arrays are ``int16`` and every combination is a bitwise OR.
"""

__all__ = ["DQ_BITS", "DQ_MEANINGS"]

GOODPIXEL = 0
SOFTERR = 1
DATALOST = 2
DETECTORPROB = 4
DATAMASKED = 8
HOTPIX = 16
LARGEBLEM = 32
UNUSED_64 = 64
OVERSCAN = 128
SATPIXEL = 256
CALIBDEFECT = 512
SMALLBLEM = 1024
X1D_BAD_BACKGROUND = 2048
X1D_DISCARDED = 4096
DATAREJECT = 8192
NOT_CTI_CORR = 16384

#: name -> value of every STIS DQ bit, lowest first.
DQ_BITS: dict[str, int] = {
    "SOFTERR": SOFTERR,
    "DATALOST": DATALOST,
    "DETECTORPROB": DETECTORPROB,
    "DATAMASKED": DATAMASKED,
    "HOTPIX": HOTPIX,
    "LARGEBLEM": LARGEBLEM,
    "UNUSED_64": UNUSED_64,
    "OVERSCAN": OVERSCAN,
    "SATPIXEL": SATPIXEL,
    "CALIBDEFECT": CALIBDEFECT,
    "SMALLBLEM": SMALLBLEM,
    "X1D_BAD_BACKGROUND": X1D_BAD_BACKGROUND,
    "X1D_DISCARDED": X1D_DISCARDED,
    "DATAREJECT": DATAREJECT,
    "NOT_CTI_CORR": NOT_CTI_CORR,
}

#: name -> what the bit means, in the words of stisdq.h and the spec §13.
DQ_MEANINGS: dict[str, str] = {
    "SOFTERR": "Reed-Solomon decoding error",
    "DATALOST": "data replaced by fill value",
    "DETECTORPROB": "bad detector pixel or beyond aperture",
    "DATAMASKED": "masked by occulting bar",
    "HOTPIX": "hot pixel",
    "LARGEBLEM": "large blemish",
    "UNUSED_64": "(unused)",
    "OVERSCAN": "overscan (never set by calstis)",
    "SATPIXEL": "saturated pixel",
    "CALIBDEFECT": "bad pixel in reference file",
    "SMALLBLEM": "small blemish",
    "X1D_BAD_BACKGROUND": "bad background in 1-D extraction",
    "X1D_DISCARDED": "discarded in 1-D extraction",
    "DATAREJECT": "rejected during image combination (cosmic ray)",
    "NOT_CTI_CORR": "not CTI corrected",
}
