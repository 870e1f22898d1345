"""stischeck diff on reference tables: column by column, row by row, exact."""

import numpy as np
import pytest
from astropy.io import fits

from stischeck.cli import main
from stischeck.diff.tables import compare_tables

CCDTAB = "img_ampB_g1_sub1060x48_cr1/oref/4lpm4o2co_ccd.fits.gz"


@pytest.fixture
def ccdtab(corpus_dir, tmp_path):
    src = corpus_dir / CCDTAB
    if not src.exists():
        pytest.skip(f"{src} not in this corpus")
    out = tmp_path / "a_ccd.fits"
    with fits.open(src) as hdul:
        hdul.writeto(out)
    return out


def variant(src, tmp_path, change, name="b_ccd.fits"):
    with fits.open(src) as hdul:
        hdul = fits.HDUList([h.copy() for h in hdul])
        change(hdul)
        hdul.writeto(tmp_path / name)
    return tmp_path / name


def run(capsys, a, b):
    code = main(["diff", str(a), str(b)])
    captured = capsys.readouterr()
    assert "internal error" not in captured.err
    return code, captured.out


@pytest.mark.corpus
def test_identical_tables_are_identical(ccdtab, tmp_path, capsys):
    code, out = run(capsys, ccdtab, variant(ccdtab, tmp_path, lambda h: None))
    assert code == 0, out
    assert out.startswith("stischeck diff: IDENTICAL")
    assert "tables: column by column, row by row, exact" in out


@pytest.mark.corpus
def test_a_changed_cell_names_column_row_and_values(ccdtab, tmp_path, capsys):
    def change(hdul):
        hdul[1].data["READNSE"][6] = 7.5

    with fits.open(ccdtab) as hdul:
        before = float(hdul[1].data["READNSE"][6])
    code, out = run(capsys, ccdtab, variant(ccdtab, tmp_path, change))
    assert code == 1
    assert (
        f"[HDU1,1] column READNSE: 1 of 144 rows differ, max |Δ| {abs(7.5 - before):.6g}; "
        f"first row 7: {np.float32(before).item()!r} in A, 7.5 in B"
    ) in out


@pytest.mark.corpus
def test_strings_and_several_columns(ccdtab, tmp_path, capsys):
    def change(hdul):
        hdul[1].data["PEDIGREE"][0] = "DUMMY"
        hdul[1].data["CCDGAIN"][[3, 9]] = 8

    code, out = run(capsys, ccdtab, variant(ccdtab, tmp_path, change))
    assert code == 1
    assert "column PEDIGREE: 1 of 144 rows differ; first row 1: 'MODEL' in A, 'DUMMY' in B" in out
    assert "column CCDGAIN: 2 of 144 rows differ" in out


@pytest.mark.corpus
def test_a_removed_row_and_column_are_structure_differences(ccdtab, tmp_path, capsys):
    def change(hdul):
        keep = [c for c in hdul[1].columns if c.name != "BLEV_CLIP"]
        hdul[1] = fits.BinTableHDU.from_columns(keep, header=hdul[1].header, nrows=143)

    code, out = run(capsys, ccdtab, variant(ccdtab, tmp_path, change))
    assert code == 1
    assert "[HDU1,1] 144 rows in A, 143 rows in B" in out
    assert "[HDU1,1] columns differ: only in A: BLEV_CLIP; only in B: -" in out


@pytest.mark.corpus
def test_a_table_against_an_image_is_said_so(ccdtab, tmp_path, capsys):
    def to_image(hdul):
        hdul[1] = fits.ImageHDU(np.zeros((3, 4), np.float32))

    code, out = run(capsys, ccdtab, variant(ccdtab, tmp_path, to_image))
    assert code == 1
    assert "table of 144 rows in A, 4x3 BITPIX -32 in B" in out


def _table(**columns):
    return fits.BinTableHDU.from_columns(
        [fits.Column(name=k, format=f, array=v) for k, (f, v) in columns.items()]
    ).data


def test_padding_types_and_nan_are_not_differences():
    a = _table(
        AMP=("4A", np.array(["A", "B"])),
        GAIN=("I", np.array([1, 4], np.int16)),
        LEVEL=("E", np.array([np.nan, 2.0], np.float32)),
        FLAG=("L", np.array([True, False])),
    )
    b = _table(
        AMP=("4A", np.array(["A   ", "B\0"])),
        GAIN=("J", np.array([1, 4], np.int32)),
        LEVEL=("D", np.array([np.nan, 2.0])),
        FLAG=("L", np.array([True, False])),
    )
    comparison, problems = compare_tables(a, b)
    assert comparison.identical and problems == []
    c = _table(
        AMP=("4A", np.array(["A", "C"])),
        GAIN=("I", np.array([1, 4], np.int16)),
        LEVEL=("E", np.array([1.0, 2.0], np.float32)),
        FLAG=("L", np.array([False, False])),
    )
    comparison, _ = compare_tables(a, c)
    assert [(d.name, d.n_differ, d.first_row) for d in comparison.columns] == [
        ("AMP", 1, 2),
        ("LEVEL", 1, 1),
        ("FLAG", 1, 1),
    ]
    assert comparison.n_rows_differ == 2


@pytest.mark.corpus
def test_csv_has_one_row_per_differing_column(ccdtab, tmp_path, capsys):
    import pandas as pd

    def change(hdul):
        hdul[1].data["SATURATE"][[0, 1, 2]] = 1.0

    csv = tmp_path / "t.csv"
    code = main(["diff", str(ccdtab), str(variant(ccdtab, tmp_path, change)), "--csv", str(csv)])
    capsys.readouterr()
    assert code == 1
    frame = pd.read_csv(csv)
    row = frame[frame.statistic == "column:SATURATE"]
    assert row.value.tolist() == [3.0] and row.y.tolist() == [1]
    assert frame[frame.statistic == "rows_differ"].value.tolist() == [3.0]
