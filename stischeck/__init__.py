"""stischeck: validate the calstis 2-D CCD reduction against a numpy reference.

Kept free of heavy imports so that ``stischeck --help`` starts fast.
"""

from stischeck._version import __version__

__all__ = ["__version__"]
