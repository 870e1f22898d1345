"""The harness's DQ bit table and the reference's are the same table (two independent copies)."""

from reference_impl.dqflags import DQ_BITS as REFERENCE_BITS
from reference_impl.dqflags import DQ_MEANINGS as REFERENCE_MEANINGS
from stischeck.dqbits import DQ_BITS, DQ_MEANINGS


def test_the_harness_names_every_stis_dq_bit_as_the_reference_does():
    assert DQ_BITS == REFERENCE_BITS
    assert DQ_MEANINGS == REFERENCE_MEANINGS
    assert sorted(DQ_BITS.values()) == [1 << k for k in range(15)]
