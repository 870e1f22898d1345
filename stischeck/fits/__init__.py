"""The harness's FITS layer: every file the judge, the runners and the report read.

It reads with astropy, names the file in a one-line `InputFileError` when a
file cannot be read, and imports nothing from `reference_impl`: a bug in the
contestant's reader must not make the reference's products and calstis's look
alike to the judge (a test checks the imports).

``open``
    `open_fits`, `open_fits_with_stored_headers`: astropy, whole file in memory.
``cards``
    `read_primary_cards`, `read_header_cards`, `with_string_values`, `extension_cards`,
    `check_complete`, `card_value`: a file's headers as their 80-character
    cards, without astropy: a raw file copied with new switch values byte for
    byte, a product's switches checked without reading its data into arrays.
``hdus``
    `read_hdus`, `HduView`, `null_data`: every HDU keyed by (EXTNAME, EXTVER),
    as the comparator pairs them.
``imsets``
    `read_imsets`, `ProductData`, `ImsetData`: SCI/ERR/DQ imsets for the report.
"""

from stischeck.fits.cards import (
    PrimaryCards,
    card_value,
    check_complete,
    extension_cards,
    read_header_cards,
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
    "card_value",
    "check_complete",
    "extension_cards",
    "null_data",
    "open_fits",
    "open_fits_with_stored_headers",
    "read_hdus",
    "read_header_cards",
    "read_imsets",
    "read_primary_cards",
    "with_string_values",
]
