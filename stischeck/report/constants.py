"""The report's fixed vocabulary: verdict ranks, keyword lists, what each step does."""

from stischeck.dqbits import DQ_BITS
from stischeck.vocabulary import Verdict

#: Verdicts from best to worst, as compare ranks them; failures are ``differ`` and ``error``.
VERDICT_RANK = {v.word: v.rank for v in Verdict}
#: The CRREJTAB parameters calstis echoes in the _crj primary header (spec §12.6), and results.
CR_KEYWORDS = (
    "CRSIGMAS",
    "CRRADIUS",
    "CRTHRESH",
    "INITGUES",
    "SKYSUB",
    "SCALENSE",
    "BADINPDQ",
    "CRMASK",
    "MEANEXP",
    "REJ_RATE",
    "SKYSUM",
    "TEXPTIME",
    "CRREJTAB",
)
#: The photometry keywords calstis1 writes in the primary header (photmode.c, dophot.c).
PHOT_KEYWORDS = ("PHOTMODE", "PHOTCORR", "PHOTFLAM", "PHOTZPT", "PHOTPLAM", "PHOTBW", "IMPHTTAB")
#: What each ladder switch does (spec calstis-ccd-2d.md §4-§12), one line.
STEP_WHAT = {
    "RAW": "the raw exposure: every switch OMIT, calstis writes no product; shown is the input",
    "DQICORR": "flags saturated pixels, pixels beyond the aperture and BPIXTAB defects; SCI "
    "unchanged, ERR initialised with the CCDTAB bias",
    "BLEVCORR": "subtracts the overscan bias level (a median per row, fitted by a line "
    "across rows), trims the overscan; ERR initialised (read noise and Poisson)",
    "BIASCORR": "subtracts the bias reference image (the 2-D zero-level pattern)",
    "CRCORR": "rejects cosmic rays across the CR-SPLIT imsets and writes their sum (DN over "
    "the total exposure time) as the _crj",
    "DARKCORR": "subtracts the dark reference image scaled by EXPTIME / ATODGAIN",
    "FLATCORR": "divides by the flat field (PFLT x DFLT x expanded LFLT)",
    "ATODCORR": "replaces each raw DN by its ATODTAB correction (analog-to-digital)",
    "SHADCORR": "divides by 1 + SHADFILE / EXPTIME (shutter shading)",
    "PHOTCORR": "writes PHOTFLAM, PHOTZPT, PHOTPLAM, PHOTBW from the IMPHTTAB (imaging only; "
    "pixels unchanged)",
}
#: Good pixels the "median good SCI" is taken over at most (evenly spaced).
_MEDIAN_SAMPLE = 250_000
#: Number of most negative pixels the waterfall follows.
N_NEGATIVE_PIXELS = 3
_EXT_ORDER = {"SCI": 0, "ERR": 1, "DQ": 2, "PRIMARY": 3, "": 9}
_SUFFIX_ORDER = {"crj": 0, "flt": 1, "raw": 2, "": 3}
_BIT_NAMES = {v: k for k, v in DQ_BITS.items()}
_DATAREJECT = DQ_BITS["DATAREJECT"]
