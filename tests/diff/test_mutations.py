"""Mutation tests: every class of change to a real calstis product is found and located.

Each test starts from a calstis 3.5.0 product of the corpus, changes one thing,
and checks that ``stischeck diff`` exits 1 and names the extension, the imset
and (for DQ) the bit; an identical copy exits 0; a change inside a stated
tolerance exits 0 and the report names the tolerance that allowed it.
"""

import gzip
import shutil

import numpy as np
import pytest
from astropy.io import fits

from stischeck.cli import main
from tests.diff.fitsedit import keep_primary_bitpix

pytestmark = pytest.mark.corpus

CASE = "img_ampC_g4_sub1060x40_cr4_f28x50lp_expscorr"
PRODUCT = f"{CASE}/DARKCORR/onkqzf010_flt.fits.gz"  # 4 imsets, 8192 flags, all switches


@pytest.fixture
def original(corpus_dir, tmp_path):
    src = corpus_dir / PRODUCT
    if not src.exists():
        pytest.skip(f"{src} not in this corpus")
    dst = tmp_path / "a_flt.fits"
    with gzip.open(src) as fin, dst.open("wb") as fout:
        shutil.copyfileobj(fin, fout)
    return dst


def mutated(original, tmp_path, change, name="b_flt.fits"):
    out = tmp_path / name
    with fits.open(original) as hdul:
        hdul = fits.HDUList([h.copy() for h in hdul])
    change(hdul)
    hdul.writeto(out, overwrite=True)
    # astropy writes a dataless primary HDU with BITPIX = 8: keep the calstis card.
    return keep_primary_bitpix(out, original)


def run_diff(capsys, *args):
    code = main(["diff", *map(str, args)])
    return code, capsys.readouterr()


def set_pixel(ext, extver, y, x, value):
    def change(hdul):
        data = hdul[ext, extver].data.copy()
        data[y, x] = value
        hdul[ext, extver].data = data

    return change


def both(*changes):
    def change(hdul):
        for c in changes:
            c(hdul)

    return change


def test_identical_copy_exits_0(original, tmp_path, capsys):
    copy = tmp_path / "copy_flt.fits"
    shutil.copy(original, copy)
    code, out = run_diff(capsys, original, copy)
    assert code == 0, out.out
    assert out.out.startswith("stischeck diff: IDENTICAL")


def test_nan_that_moves_is_a_difference(original, tmp_path, capsys):
    a = mutated(original, tmp_path, set_pixel("SCI", 2, 10, 20, np.nan), "a2.fits")
    b = mutated(original, tmp_path, set_pixel("SCI", 2, 10, 21, np.nan))
    code, out = run_diff(capsys, a, b)
    assert code == 1
    assert "SCI imset 2: 2 pixels change NaN/inf class or position" in out.out


def test_nan_versus_plus_inf_is_a_difference(original, tmp_path, capsys):
    a = mutated(original, tmp_path, set_pixel("SCI", 1, 5, 7, np.nan), "a2.fits")
    b = mutated(original, tmp_path, set_pixel("SCI", 1, 5, 7, np.inf))
    code, out = run_diff(capsys, a, b)
    assert code == 1
    assert "SCI imset 1: 1 pixels change NaN/inf class or position, e.g. [8, 6] nan vs inf" in (
        out.out
    )


def test_plus_inf_versus_minus_inf_is_a_difference(original, tmp_path, capsys):
    a = mutated(original, tmp_path, set_pixel("ERR", 3, 0, 0, np.inf), "a2.fits")
    b = mutated(original, tmp_path, set_pixel("ERR", 3, 0, 0, -np.inf))
    code, out = run_diff(capsys, a, b)
    assert code == 1
    assert "ERR imset 3: 1 pixels change NaN/inf class or position, e.g. [1, 1] inf vs -inf" in (
        out.out
    )


def test_one_ulp_change_is_found_and_located(original, tmp_path, capsys):
    with fits.open(original) as hdul:
        value = hdul["SCI", 4].data[30, 500]
    b = mutated(
        original, tmp_path, set_pixel("SCI", 4, 30, 500, np.nextafter(value, np.float32(np.inf)))
    )
    code, out = run_diff(capsys, original, b)
    assert code == 1
    assert "SCI imset 4: 1 of 40960 pixels differ, max 1 ulp" in out.out
    assert "at [501, 31]" in out.out


def test_one_dq_bit_set_names_the_bit(original, tmp_path, capsys):
    with fits.open(original) as hdul:
        dq = hdul["DQ", 1].data[12, 300]
    assert not dq & 8192
    b = mutated(original, tmp_path, set_pixel("DQ", 1, 12, 300, dq | 8192))
    code, out = run_diff(capsys, original, b)
    assert code == 1
    assert (
        "DQ imset 1: bit 8192 DATAREJECT: only in A 0, only in B 1, both" in out.out
        and "(first at [301, 13])" in out.out
    )


def test_one_dq_bit_cleared_names_the_bit(original, tmp_path, capsys):
    with fits.open(original) as hdul:
        dq = hdul["DQ", 2].data
        y, x = np.argwhere(dq & 8192)[0]
        value = dq[y, x]
    b = mutated(original, tmp_path, set_pixel("DQ", 2, y, x, value & ~8192))
    code, out = run_diff(capsys, original, b)
    assert code == 1
    assert "DQ imset 2: bit 8192 DATAREJECT: only in A 1, only in B 0" in out.out
    assert f"(first at [{x + 1}, {y + 1}])" in out.out


def test_two_imsets_swapped_are_found(original, tmp_path, capsys):
    def swap(hdul):
        for ext in ("SCI", "ERR", "DQ"):
            one, two = hdul[ext, 1].data.copy(), hdul[ext, 2].data.copy()
            hdul[ext, 1].data, hdul[ext, 2].data = two, one

    b = mutated(original, tmp_path, swap)
    code, out = run_diff(capsys, original, b)
    assert code == 1
    for ext in ("SCI", "ERR"):
        for k in (1, 2):
            assert f"{ext} imset {k}:" in out.out
    assert "DQ imset 1: bit 8192 DATAREJECT" in out.out


def _switch_to_skipped(hdul):
    hdul[0].header["DARKCORR"] = "SKIPPED"


def _scale_err_3(hdul):
    hdul["ERR", 3].data = hdul["ERR", 3].data * np.float32(1.01)


def _drop_dq_2(hdul):
    del hdul[hdul.index_of(("DQ", 2))]


def _drop_a_sci_row(hdul):
    hdul["SCI", 1].data = hdul["SCI", 1].data[:-1]


#: name -> (change, what the summary says, what it must not say).
CHANGES = {
    "switch keyword COMPLETE to SKIPPED": (
        _switch_to_skipped,
        "primary header DARKCORR: 'COMPLETE' in A, 'SKIPPED' in B",
        None,
    ),
    "ERR changed and SCI not": (_scale_err_3, "ERR imset 3:", "SCI imset 3:"),
    "missing extension": (_drop_dq_2, "[DQ,2] present only in A", None),
    "shape change": (_drop_a_sci_row, "[SCI,1] shape 1024x40 in A, 1024x39 in B", None),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_change_is_a_difference_and_the_summary_names_it(name, original, tmp_path, capsys):
    change, said, not_said = CHANGES[name]
    code, out = run_diff(capsys, original, mutated(original, tmp_path, change))
    assert code == 1
    assert said in out.out
    assert not_said is None or not_said not in out.out


def test_numeric_keyword_beyond_its_tolerance(original, tmp_path, capsys):
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'schema_version = 1\nname = "meanblev"\nversion = "1"\n'
        '[[headers.tolerance]]\nkeyword = "MEANBLEV"\natol = 0.01\n'
        'reason = "test: overscan level printed to 8 digits"\n'
    )

    def change_by(delta):
        def change(hdul):
            hdul["SCI", 2].header["MEANBLEV"] = hdul["SCI", 2].header["MEANBLEV"] + delta

        return change

    beyond = mutated(original, tmp_path, change_by(0.5), "beyond.fits")
    code, out = run_diff(capsys, original, beyond, "--policy", policy)
    assert code == 1
    assert "[SCI,2] MEANBLEV:" in out.out
    inside = mutated(original, tmp_path, change_by(0.005), "inside.fits")
    code, out = run_diff(capsys, original, inside, "--policy", policy)
    assert code == 0, out.out
    assert "AGREE" in out.out.splitlines()[0]
    assert "MEANBLEV atol=0.01, rtol=0: test: overscan level printed to 8 digits" in out.out


def test_change_inside_a_pixel_tolerance_passes_and_says_which(original, tmp_path, capsys):
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'schema_version = 1\nname = "loose"\nversion = "2"\n'
        '[[data]]\nstep = "*"\nextension = "SCI"\nstatistic = "pixel"\n'
        'atol = 0.0\nrtol = 1e-6\nreason = "test: float32 rounding of a summed dark"\n'
    )
    with fits.open(original) as hdul:
        value = hdul["SCI", 1].data[3, 3]
    b = mutated(
        original, tmp_path, set_pixel("SCI", 1, 3, 3, np.nextafter(value, np.float32(np.inf)))
    )
    code, out = run_diff(capsys, original, b, "--policy", policy)
    assert code == 0, out.out
    assert out.out.startswith("stischeck diff: AGREE")
    assert "pixel (atol=0, rtol=1e-06) for step '*' SCI: test: float32 rounding" in out.out
    code, _ = run_diff(capsys, original, b)  # the default policy is exact
    assert code == 1


def test_missing_file_exits_2_with_one_line(original, tmp_path, capsys):
    code, out = run_diff(capsys, original, tmp_path / "nope.fits")
    assert code == 2
    assert out.err.strip() == f"stischeck: {tmp_path / 'nope.fits'}: file not found"


def test_unreadable_file_exits_2(original, tmp_path, capsys):
    bad = tmp_path / "bad.fits"
    bad.write_bytes(b"SIMPLE  =                    T" + b"x" * 100)
    code, out = run_diff(capsys, original, bad)
    assert code == 2
    assert "bad.fits: not a readable FITS file" in out.err
    assert len(out.err.strip().splitlines()) == 1


def test_csv_is_tidy_and_names_the_bit(original, tmp_path, capsys):
    import pandas as pd

    b = mutated(original, tmp_path, set_pixel("DQ", 3, 1, 1, 8192 | 16))
    csv = tmp_path / "d.csv"
    code, _ = run_diff(capsys, original, b, "--csv", csv)
    assert code == 1
    frame = pd.read_csv(csv)
    row = frame[(frame.extname == "DQ") & (frame.imset == 3) & (frame.statistic == "bit_only_b")]
    assert set(row.bit_name) >= {"DATAREJECT"}
    assert not frame.loc[(frame.extname == "SCI"), "within"].eq(False).any()
