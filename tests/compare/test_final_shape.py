"""--pixel's bounds: the harness's own overscan rule gives the shape calstis's BLEVCORR trims to."""

import itertools

import pytest
from astropy.io import fits

from stischeck import config as cfg
from stischeck.commands.compare import blevcorr_trimmed_size, final_shape
from stischeck.inputs import read_raw_header

#: Corpus case -> (raw nx, ny), (trimmed nx, ny): 4 x 4 amp D and 2 x 2 amp A as spec §6.1's
#: examples, a full frame and a subarray.
CASES = {
    "img_ampD_g1_bin4x4_cr2": ((271, 266), (255, 256)),
    "spec_ampA_g4_bin2x2_cr2": ((532, 522), (511, 512)),
    "img_ampD_g1_full_cr2": ((1062, 1044), (1024, 1024)),
    "img_ampB_g1_sub1060x48_cr1": ((1060, 48), (1024, 48)),
}


@pytest.mark.corpus
@pytest.mark.parametrize("name", CASES)
def test_final_shape_of_a_corpus_raw_file_is_the_trimmed_blevcorr_product(corpus_dir, name):
    case = corpus_dir / name
    raw = next(case.glob("*_raw.fits*"))
    header = read_raw_header(raw)
    (raw_nx, raw_ny), trimmed = CASES[name]
    nx, ny, what = final_shape(raw, cfg.configurations_for(header, steps=["DQICORR", "BLEVCORR"]))
    assert (nx, ny) == trimmed, what
    assert what == f"{raw.name}: {raw_nx} x {raw_ny} raw, less the overscan BLEVCORR trims"
    product = next((case / "BLEVCORR").glob("*_flt.fits*"))
    stored = fits.getheader(product, 1)
    assert (stored["NAXIS1"], stored["NAXIS2"]) == trimmed
    untrimmed = final_shape(raw, cfg.configurations_for(header, steps=["DQICORR"]))
    assert untrimmed[:2] == (raw_nx, raw_ny)
    assert final_shape(raw, cfg.configurations_for(header, steps=["RAW"])) is None


def test_final_shape_of_an_unreadable_raw_file_is_none(tmp_path):
    raw = tmp_path / "o1_raw.fits"
    raw.write_bytes(b"not a FITS file")
    configurations = [cfg.explicit(["DQICORR", "BLEVCORR"])]
    assert final_shape(raw, configurations) is None


@pytest.mark.parametrize(
    ("nx", "ny", "bins"),
    [(1062, 1044, (1, 1)), (1062, 1043, (1, 1)), (1035, 48, (1, 1)), (40, 30, (4, 4)),
     (1062, 500, (1, 2))],
)  # fmt: skip
def test_a_frame_too_small_to_trim_has_no_trimmed_size_unless_it_is_a_full_frame(nx, ny, bins):
    expected = (1024, 1024) if (nx, ny) == (1062, 1044) else None
    assert blevcorr_trimmed_size(nx, ny, bins) == expected


def test_the_harness_rule_and_the_reference_find_the_same_trimmed_size():
    """Stated twice, independently: the judge's rule and the contestant's findover.c port."""
    from reference_impl.geometry import find_overscan

    sizes = [24, 40, 48, 100, 266, 271, 512, 522, 532, 1023, 1024, 1044, 1060, 1062, 1100]
    for nx, ny, bin_x, bin_y, amp in itertools.product(sizes, sizes, (1, 2, 4), (1, 2, 4), "AD"):
        layout = find_overscan(amp, nx, ny, (bin_x, bin_y))
        expected = None if layout.too_small else layout.trimmed_shape(ny, nx)[::-1]
        assert blevcorr_trimmed_size(nx, ny, (bin_x, bin_y)) == expected, (nx, ny, bin_x, bin_y)
