"""Where an image lies on the CCD: binning, corner, and the overscan layout.

calstis takes every geometric fact from the SCI header's ``LTV``/``LTM``
keywords, never from ``BINAXISi`` or the subarray keywords (spec §6.1, §7;
hstcal ``pkg/stis/lib/getcorner.c``, ``pkg/stis/lib/cs1/findover.c``).
"Reference coordinates" are unbinned pixels of the illuminated 1024 x 1024 area.
"""

from dataclasses import dataclass

from reference_impl.numerics import nint

__all__ = ["AxisPlacement", "Placement", "OverscanLayout", "placement_from_lt", "find_overscan"]

CCD_NPIX_X = 1024
CCD_NPIX_Y = 1024
OVERSCAN_LEFT = 19
OVERSCAN_RIGHT = 19
OVERSCAN_TOP = 20
SUBARRAY_BORDER = 1
# Zero-based, inclusive bias-section columns for amp A (hstcal stissizes.h).
BIASSECT_1L, BIASSECT_1R = 1046, 1060
BIASSECT_1L_B, BIASSECT_1R_B = 1046, 1052
BIASSECT_2L, BIASSECT_2R = 524, 530
BIASSECT_4L, BIASSECT_4R = 263, 269


@dataclass(frozen=True)
class AxisPlacement:
    """Binning and position of one image axis on the detector.

    Attributes
    ----------
    bin : int
        Unbinned pixels per image pixel, ``NINT(1/LTM)``.
    corner : int
        Reference coordinate (unbinned, zero-based) of the first image pixel's
        first unbinned pixel, ``NINT((1/LTM - 1)/2 - LTV/LTM)``.
    """

    bin: int
    corner: int


@dataclass(frozen=True)
class Placement:
    """Binning and corner of an image on both axes (x first, as in FITS)."""

    x: AxisPlacement
    y: AxisPlacement

    @property
    def bin_xy(self) -> tuple[int, int]:
        """``(bin_x, bin_y)``."""
        return (self.x.bin, self.y.bin)


def placement_from_lt(ltv1: float, ltv2: float, ltm1_1: float, ltm2_2: float) -> Placement:
    """Return the binning and corner implied by ``LTV``/``LTM`` (getcorner.c).

    Parameters
    ----------
    ltv1, ltv2 : float
        ``LTV1``, ``LTV2`` of the SCI header (image minus reference offset).
    ltm1_1, ltm2_2 : float
        ``LTM1_1``, ``LTM2_2`` (reciprocal of the bin factor).

    Examples
    --------
    A trimmed 2x2 image with ``LTV1 = -0.25`` starts at unbinned column 1:

    >>> placement_from_lt(-0.25, 0.25, 0.5, 0.5).x
    AxisPlacement(bin=2, corner=1)
    """

    def axis(ltv: float, ltm: float) -> AxisPlacement:
        b = nint(1.0 / ltm)
        return AxisPlacement(bin=b, corner=nint((1.0 / ltm - 1.0) / 2.0 - ltv / ltm))

    return Placement(x=axis(ltv1, ltm1_1), y=axis(ltv2, ltm2_2))


@dataclass(frozen=True)
class OverscanLayout:
    """The overscan regions of a raw CCD frame (findover.c).

    All indices are zero-based raw-image pixels.

    Attributes
    ----------
    mode : str
        ``"full frame"``, ``"subarray"`` or ``"binned"``.
    left, right, bottom, top : int
        Columns trimmed at the start/end of each row, rows trimmed at the
        bottom/top of each column.
    bias_cols : tuple of int
        Inclusive first and last column of the serial bias section.
    virtual_cols, virtual_rows : tuple of int
        Inclusive ranges of the virtual (parallel) overscan used for the drift
        fit; empty when the second value is not above the first.
    too_small : bool
        True when calstis would reject the frame as too small for BLEVCORR
        (it then subtracts CCDBIAS without trimming, spec §6.7).
    """

    mode: str
    left: int
    right: int
    bottom: int
    top: int
    bias_cols: tuple[int, int]
    virtual_cols: tuple[int, int]
    virtual_rows: tuple[int, int]
    too_small: bool

    def trimmed_shape(self, ny: int, nx: int) -> tuple[int, int]:
        """Shape ``(ny, nx)`` after removing the overscan."""
        return (ny - self.bottom - self.top, nx - self.left - self.right)


def _amp_a_overscan(mode: str, nx: int, ny: int, bin_x: int, bin_y: int) -> tuple:
    """Amp A's overscan widths and bias columns (findover.c), pixels.

    Returns ``(left, right, top, bottom, (first, last bias column))``; the
    other amplifiers mirror it (`find_overscan`).
    """
    if mode == "full frame":
        return OVERSCAN_LEFT, OVERSCAN_RIGHT, OVERSCAN_TOP, 0, (BIASSECT_1L, BIASSECT_1R)
    if mode == "subarray":
        return (
            OVERSCAN_LEFT - SUBARRAY_BORDER,
            OVERSCAN_RIGHT - SUBARRAY_BORDER,
            0,
            0,
            (BIASSECT_1L, BIASSECT_1R - SUBARRAY_BORDER),
        )
    if bin_x == 1:
        left = OVERSCAN_LEFT
        right = nx - CCD_NPIX_X - left
    else:
        # One mixed overscan/illuminated pixel is dropped at each row end.
        left = (OVERSCAN_LEFT + 1) // bin_x
        right = nx - (CCD_NPIX_X // bin_x - 1) - left
    bias_cols = {
        1: (BIASSECT_1L_B, BIASSECT_1R_B),
        2: (BIASSECT_2L, BIASSECT_2R),
        4: (BIASSECT_4L, BIASSECT_4R),
    }.get(bin_x, (0, -1))
    return left, right, ny - CCD_NPIX_Y // bin_y, 0, bias_cols


def find_overscan(amp: str, nx: int, ny: int, bin_xy: tuple[int, int]) -> OverscanLayout:
    """Return the hard-coded overscan layout calstis 3.5.0 uses (spec §6.1).

    Parameters
    ----------
    amp : str
        Readout amplifier, ``"A"`` to ``"D"`` (first letter used).
    nx, ny : int
        Raw image size in pixels (NAXIS1, NAXIS2).
    bin_xy : tuple of int
        Bin factors ``(bin_x, bin_y)`` from ``LTM``.

    Notes
    -----
    calstis 3.5.0 does not read an OSCNTAB; these numbers are compiled into
    ``findover.c``/``stissizes.h``. Amp B and D mirror the columns, C and D the
    rows. Binning other than 1, 2, 4 yields an empty bias section, which the
    caller must treat as fatal.
    """
    bin_x, bin_y = bin_xy
    amp = amp[:1].upper()
    if bin_x == 1 and bin_y == 1:
        mode = "subarray" if ny <= CCD_NPIX_Y else "full frame"
    else:
        mode = "binned"
    a_left, a_right, a_top, a_bottom, a_bs = _amp_a_overscan(mode, nx, ny, bin_x, bin_y)
    mirrored_bs = (nx - a_bs[1] - 1, nx - a_bs[0] - 1)
    if amp == "A":
        left, right, bottom, top, bs = a_left, a_right, a_bottom, a_top, a_bs
    elif amp == "B":
        left, right, bottom, top, bs = a_right, a_left, a_bottom, a_top, mirrored_bs
    elif amp == "C":
        left, right, bottom, top, bs = a_left, a_right, a_top, a_bottom, a_bs
    else:  # D
        left, right, bottom, top, bs = a_right, a_left, a_top, a_bottom, mirrored_bs

    too_small = False
    if mode == "full frame":
        too_small = (nx - left - right) < CCD_NPIX_X or (ny - top - bottom) < CCD_NPIX_Y
    elif mode == "subarray":
        too_small = (nx - left - right) < CCD_NPIX_X
    if min(left, right, bottom, top) < 0:
        too_small = True

    vx = (left, nx - 1 - right)
    vy = (ny - top, ny - 1) if amp in "AB" else (0, bottom - 1)
    return OverscanLayout(
        mode=mode,
        left=left,
        right=right,
        bottom=bottom,
        top=top,
        bias_cols=bs,
        virtual_cols=vx,
        virtual_rows=vy,
        too_small=too_small,
    )
