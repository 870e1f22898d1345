"""ATODCORR (spec §5; doatod.c): the ATODTAB row and the value lookup (code-read only)."""

import numpy as np

from reference_impl.imset import Imset
from reference_impl.steps.atodcorr import SATPIXEL, AtodRow, apply_atod, select_atod_row


def _row(amp, gain, value, pedigree="MODEL", key="OCCDHTAV"):
    return AtodRow(amp, gain, key, value, pedigree, np.arange(4, dtype=np.float32))


def test_the_row_closest_in_ref_key_wins_among_the_amp_and_gain():
    rows = [_row("D", 1, 15.0), _row("D", 1, 18.5), _row("D", 4, 19.0), _row("A", 1, 19.0)]
    assert select_atod_row(rows, ccdamp="D", ccdgain=1, key_value=lambda k: 19.0) == 1


def test_the_first_of_equally_close_rows_wins_and_wildcards_match():
    rows = [_row("C", 1, 50.0), _row("ANY", -1, 18.0), _row("D", 1, 20.0)]
    assert select_atod_row(rows, ccdamp="D", ccdgain=1, key_value=lambda k: 19.0) == 1
    assert select_atod_row(rows[:1], ccdamp="D", ccdgain=1, key_value=lambda k: 19.0) is None


def test_atod_replaces_values_flags_beyond_the_table_and_leaves_negatives():
    sci = np.array([[0.0, 2.0, 3.0, 7.0, -5.0, 2.9]], np.float32)
    science = Imset(sci, np.ones_like(sci), np.zeros(sci.shape, np.int16))
    table = np.array([10.5, 11.5, 12.5, 13.5], np.float32)
    out = apply_atod(science, table)
    assert out.sci.tolist() == [[10.5, 12.5, 13.5, 13.5, -5.0, 12.5]]
    assert out.dq.tolist() == [[0, 0, 0, SATPIXEL, 0, 0]]
    assert out.err is science.err and science.sci[0, 1] == 2.0  # input untouched
