"""CRCORR: cosmic-ray rejection of CR-SPLIT imsets (spec §12; hstcal ``cs2/``).

Not implemented yet (tracked separately). The pipeline refuses to produce a
``_crj`` rather than write a silently wrong product.
"""

from reference_impl.errors import NotImplementedStepError

__all__ = ["reject_cosmic_rays"]


def reject_cosmic_rays(*_args, **_kwargs):
    """Raise NotImplementedStepError: cosmic-ray rejection is not implemented yet."""
    raise NotImplementedStepError(
        "CRCORR (cosmic-ray rejection of two or more imsets) is not implemented "
        "in the reference yet"
    )
