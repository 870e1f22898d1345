"""Synthetic STIS CCD data sets: a raw exposure and a complete ``oref/`` that calstis accepts.

One function per concern: `geometry` (where raw pixels lie on the detector),
`scene` (sky, stars, spectral trace), `cosmic` (cosmic rays), `detector`
(amplifiers, bias, bleeding, readout), `references` (the detector model and
the reference data), `fitsio` (file layouts), `dataset` (assembly).

Examples
--------
>>> from stischeck.synth import SynthParams, write_dataset
>>> paths = write_dataset(SynthParams(seed=7, amp="A", gain=4), "out/")  # doctest: +SKIP
>>> paths.raw.name  # doctest: +SKIP
'o...010_raw.fits'
"""

from stischeck.synth.dataset import DatasetPaths, SynthDataset, build_dataset, write_dataset
from stischeck.synth.params import APERTURES, SIDE2_MJD, SynthParams, validate

__all__ = [
    "APERTURES",
    "DatasetPaths",
    "SIDE2_MJD",
    "SynthDataset",
    "SynthParams",
    "build_dataset",
    "validate",
    "write_dataset",
]
