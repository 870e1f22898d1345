"""The comparator's pure parts on tiny arrays, and policy validation."""

import numpy as np
import pytest

from stischeck.diff.arrays import compare_dq, compare_float, ulp_distance
from stischeck.diff.policy import default_policy, parse_policy
from stischeck.errors import InputFileError


def test_ulp_distance_counts_representable_floats_across_zero():
    a = np.array([1.0, 0.0, -0.0, np.float32(1e-45)], np.float32)
    b = np.array(
        [np.nextafter(np.float32(1), np.float32(2)), -0.0, 0.0, -np.float32(1e-45)], np.float32
    )
    assert ulp_distance(a, b).tolist() == [1, 0, 0, 2]


def test_relative_difference_is_symmetric():
    a = np.array([[100.0, 1.0]], np.float32)
    b = np.array([[101.0, 1.0]], np.float32)
    assert compare_float(a, b).max_rel_diff == compare_float(b, a).max_rel_diff == 1 / 101


def test_nonfinite_confusion_table_is_by_position():
    a = np.array([[np.nan, np.inf, 1.0, -np.inf]], np.float32)
    b = np.array([[np.nan, -np.inf, np.nan, -np.inf]], np.float32)
    c = compare_float(a, b)
    assert c.n_differ == 2 and c.nonfinite_mismatch == 2
    table = np.array(c.nonfinite)  # rows: class in a; columns: class in b
    assert table[1, 1] == 1 and table[2, 3] == 1 and table[0, 1] == 1 and table[3, 3] == 1


def test_statistics_split_by_sdqflags():
    a = np.zeros((2, 2), np.float32)
    b = np.array([[1, 0], [0, 2]], np.float32)
    flagged = np.array([[True, False], [False, False]])
    c = compare_float(a, b, flagged=flagged)
    assert c.subsets["flagged"]["n_differ"] == 1 and c.subsets["flagged"]["max_abs_diff"] == 1
    assert c.subsets["good"]["n_differ"] == 1 and c.subsets["good"]["max_abs_diff"] == 2
    assert c.worst[0].x == 2 and c.worst[0].y == 2  # FITS [x, y], 1-based, largest first


def test_dq_counts_every_bit_on_each_side():
    a = np.array([[16 | 8192, 0, -32768]], np.int16)
    b = np.array([[16, 8192, -32768]], np.int16)
    c = compare_dq(a, b)
    assert c.bits[16] == (0, 0, 1)
    assert c.bits[8192] == (1, 1, 0)
    assert c.bits[32768] == (0, 0, 1)
    assert c.first[8192] == (1, 1)
    assert c.differing_bits() == [8192]


def test_inputs_are_not_modified():
    a = np.array([[1.0, np.nan]], np.float32)
    b = np.array([[2.0, 3.0]], np.float32)
    a0, b0 = a.copy(), b.copy()
    compare_float(a, b, err=np.ones_like(a), atol=1.0)
    assert np.array_equal(a, a0, equal_nan=True) and np.array_equal(b, b0)


def test_default_policy_is_exact_and_versioned():
    policy = default_policy()
    assert policy.name == "exact" and policy.version == "1"
    assert policy.data_rules == () and policy.keyword_rules == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("schema_version = 2\nname='x'\nversion='1'", "schema_version must be 1"),
        ("schema_version = 1\nname='x'\nversion='1'\n[[data]]\nstatistic='pixel'\n", "reason"),
        (
            "schema_version = 1\nname='x'\nversion='1'\n[[data]]\nextension='DQ'\n"
            "statistic='pixel'\nreason='r'\n",
            "DQ takes no tolerance",
        ),
        (
            "schema_version = 1\nname='x'\nversion='1'\n[[data]]\nstatistic='mean'\nreason='r'",
            "one of",
        ),
        ("not toml [", "not valid TOML"),
    ],
)
def test_bad_policies_are_refused_with_the_reason(text, problem):
    with pytest.raises(InputFileError, match=problem):
        parse_policy(text, source="p.toml")
