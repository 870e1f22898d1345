"""The harness's FITS layer: every file the judge, the runners and the report read.

It reads with astropy, names the file in a one-line `InputFileError` when a
file cannot be read, and imports nothing from `reference_impl`: a bug in the
contestant's reader must not make the reference's products and calstis's look
alike to the judge (a test checks the imports).

``open``
    `open_fits`, `open_fits_with_stored_headers`: astropy, whole file in memory.
``cards``
    `read_primary_cards`, `with_string_values`, `check_complete`: a raw file's
    primary header as its 80-character cards, to copy it with new switch values
    byte for byte.
``hdus``
    `read_hdus`, `HduView`, `null_data`: every HDU keyed by (EXTNAME, EXTVER),
    as the comparator pairs them.
``imsets``
    `read_imsets`, `ProductData`, `ImsetData`: SCI/ERR/DQ imsets for the report.
"""

from stischeck.fits.cards import (
    PrimaryCards,
    check_complete,
    read_primary_cards,
    with_string_values,
)
from stischeck.fits.hdus import HduView, null_data, read_hdus
from stischeck.fits.imsets import ImsetData, ProductData, read_imsets
from stischeck.fits.open import open_fits, open_fits_with_stored_headers

__all__ = [
    "HduView",
    "ImsetData",
    "PrimaryCards",
    "ProductData",
    "check_complete",
    "null_data",
    "open_fits",
    "open_fits_with_stored_headers",
    "read_hdus",
    "read_imsets",
    "read_primary_cards",
    "with_string_values",
]
