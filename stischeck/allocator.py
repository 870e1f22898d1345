"""Keep freed array memory inside the process instead of handing it back to the kernel.

A full-frame STIS array is 4 MiB (float32) or 8 MiB (float64). glibc's malloc
serves every block above its mmap threshold (128 KiB to start with) from a
fresh ``mmap`` and unmaps it on ``free``, and it trims the heap top back to
the kernel once 128 KiB-2x that threshold lies free. Either way the next array
of the same size is new pages, and the kernel zero-fills every 4 KiB of it on
first touch. The reference pipeline and the comparator make dozens of such
temporaries per imset, so this page-fault work was a tenth to a third of
their time (measured, full frame: 27k minor faults and 0.1-0.2 s of system
time for one CRSPLIT 8 reference run; 274k faults in six ``diff`` runs).

`keep_freed_memory` raises both thresholds, so that freed blocks stay in the
heap and are reused. The process's peak RSS is still its peak of live data
plus fragmentation; only the drop back after a peak is given up, which a
short-lived command does not need. Linux with glibc only; elsewhere it does
nothing, and a user's own malloc settings (`USER_SETTINGS`) win. It changes
no result: which addresses numpy gets is all it decides.
"""

import ctypes
import os

__all__ = ["keep_freed_memory", "MMAP_THRESHOLD_BYTES", "TRIM_THRESHOLD_BYTES", "USER_SETTINGS"]

#: Blocks up to this size come from the heap, not from their own mmap: the
#: largest glibc accepts on 64-bit (``HEAP_MAX_SIZE / 2``), above an 8 MiB frame.
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
#: Free memory at the heap top is returned to the kernel only above this.
TRIM_THRESHOLD_BYTES = 1024 * 1024 * 1024

#: Environment variables through which a user tunes glibc's malloc: when one is
#: set, `keep_freed_memory` leaves the allocator as the user configured it.
USER_SETTINGS = ("GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")

# mallopt parameter numbers, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> bool:
    """
    Make glibc's malloc keep and reuse freed blocks up to 32 MiB (see the module docstring).

    Call it once, early, in a process that runs the pipeline or the comparator.

    Returns
    -------
    bool
        True when glibc accepted both settings; False when the user tunes
        malloc already or there is no ``mallopt`` (macOS, Windows, musl), and
        nothing changed.
    """
    if any(name in os.environ for name in USER_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    kept = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    return mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1 and kept
