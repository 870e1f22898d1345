"""File adapters: everything that touches FITS files and headers lives here."""
