"""A clean numpy reference implementation of the calstis 2-D CCD reduction.

The data flow follows the folder layout: ``io/`` reads the raw file and the
reference files and cuts them to the science pixels, ``steps/`` holds one pure
function per calibration switch, ``pipeline.py`` decides the order and the
switch bookkeeping, and ``io/products.py`` writes the ``_flt`` and ``_crj`` FITS files.

The specification is ``shared/docs/calstis-ccd-2d.md`` (calstis 3.5.0).
"""
