"""Header mutations of real corpus files: every card FITSDiff reports, stischeck diff reports.

Each test edits cards of a calstis 3.5.0 product (``_flt``, ``_crj``) or a raw
file of the corpus on the bytes (tests/diff/fitsedit.py: nothing else in the
file changes), then asks astropy's FITSDiff (default options) and ``stischeck
diff`` (default policy). For every keyword whose value FITSDiff reports
(extra keyword, differing value, inconsistent duplicates), stischeck must
report the same (extension, imset, keyword), and name them on its output;
when the policy ignores the keyword, the output says so with the policy's
reason. stischeck must report nothing FITSDiff does not (no false alarm).
Card comments are not compared by stischeck; these mutations keep them.
"""

import pytest
from astropy.io import fits
from astropy.io.fits import FITSDiff

from stischeck.cli import main
from stischeck.diff import diff_products, load_policy
from tests.diff.fitsedit import decompress, edited

pytestmark = pytest.mark.corpus

CASE = "img_ampC_g4_sub1060x40_cr4_f28x50lp_expscorr"
FLT = f"{CASE}/DARKCORR/onkqzf010_flt.fits.gz"
CRJ = f"{CASE}/DARKCORR/onkqzf010_crj.fits.gz"
RAW = f"{CASE}/onkqzf010_raw.fits.gz"


def _copy(corpus_dir, tmp_path, name):
    src = corpus_dir / name
    if not src.exists():
        pytest.skip(f"{src} not in this corpus")
    return decompress(src, tmp_path / ("orig_" + src.name.removesuffix(".gz")))


@pytest.fixture
def flt(corpus_dir, tmp_path):
    return _copy(corpus_dir, tmp_path, FLT)


@pytest.fixture
def crj(corpus_dir, tmp_path):
    return _copy(corpus_dir, tmp_path, CRJ)


@pytest.fixture
def raw(corpus_dir, tmp_path):
    return _copy(corpus_dir, tmp_path, RAW)


def names(path) -> list:
    """(EXTNAME, EXTVER) of every HDU, in file order, as stischeck names them."""
    with fits.open(path) as hdul:
        return [("PRIMARY", 0)] + [(h.name, h.ver) for h in hdul[1:]]


def fitsdiff_keywords(a, b) -> set:
    """(extname, extver, keyword) of every keyword-value difference FITSDiff reports."""
    diff = FITSDiff(str(a), str(b))
    where = names(a)
    found = set()
    for index, hdu_diff, _, _ in diff.diff_hdus:
        headers = hdu_diff.diff_headers
        only_a, only_b = headers.diff_keywords or ((), ())  # () when no keyword is extra
        keys = set(only_a) | set(only_b)
        keys |= set(headers.diff_keyword_values) | set(headers.diff_duplicate_keywords)
        found |= {(*where[index], key) for key in keys}
    return found


def stischeck_keywords(result) -> set:
    ignored = getattr(result, "ignored", ())  # (absent before the comparator saw them)
    return {(k.extname, k.extver, k.keyword) for k in (*result.keywords, *ignored)}


def check(a, b, capsys, *, policy=None, beyond_fitsdiff=frozenset()):
    """
    stischeck reports every keyword FITSDiff reports, and names each on its output.

    ``beyond_fitsdiff`` lists what stischeck must report and FITSDiff does not
    see; anything else stischeck reported would be a false alarm.
    """
    expected = fitsdiff_keywords(a, b) | set(beyond_fitsdiff)
    assert expected, "the mutation must be one FITSDiff sees"
    result = diff_products(a, b, policy=load_policy(policy) if policy else None)
    assert stischeck_keywords(result) == expected
    code = main(["diff", str(a), str(b), *(["--policy", str(policy)] if policy else [])])
    out = capsys.readouterr().out
    for extname, extver, keyword in expected:
        where = "primary header" if extname == "PRIMARY" else f"[{extname},{extver}]"
        assert any(where in line and keyword in line for line in out.splitlines()), (
            f"{where} {keyword} not named:\n{out}"
        )
    return result, code, out


def mutate(src, tmp_path, change, name="b.fits"):
    return edited(src, tmp_path / name, change)


def test_primary_bitpix_of_a_dataless_primary_is_reported(flt, tmp_path, capsys):
    b = mutate(flt, tmp_path, lambda h: h[0].set("BITPIX", "8", "number of bits per data pixel"))
    result, code, out = check(flt, b, capsys)
    assert code == 1
    assert "primary header BITPIX: 16 in A, 8 in B" in out


def test_primary_extend_card_is_reported(flt, tmp_path, capsys):
    """FITSDiff does not see EXTEND = F (astropy reads the extensions anyway); stischeck does."""
    comment = "FITS dataset may contain extensions"
    b = mutate(flt, tmp_path, lambda h: h[0].set("EXTEND", "F", comment))
    assert FITSDiff(str(flt), str(b)).identical
    _, code, out = check(flt, b, capsys, beyond_fitsdiff={("PRIMARY", 0, "EXTEND")})
    assert code == 1 and "primary header EXTEND: True in A, False in B" in out


def test_primary_bitpix_of_a_crj_product_is_reported(crj, tmp_path, capsys):
    b = mutate(crj, tmp_path, lambda h: h[0].set("BITPIX", "8"))
    _, code, _ = check(crj, b, capsys)
    assert code == 1


def test_added_keyword_is_reported_with_its_extension_and_imset(flt, tmp_path, capsys):
    b = mutate(flt, tmp_path, lambda h: h[4].insert_after("EXTVER", "TESTKEY", "42"))
    _, code, out = check(flt, b, capsys)
    assert code == 1 and "[SCI,2] TESTKEY: only in B (42)" in out


def test_removed_keyword_is_reported(crj, tmp_path, capsys):
    def remove(hdus):
        hdus[1].delete("NCOMBINE")

    _, code, out = check(crj, mutate(crj, tmp_path, remove), capsys)
    assert code == 1 and "[SCI,1] NCOMBINE: only in A" in out


def test_changed_value_in_an_err_header_is_reported(flt, tmp_path, capsys):
    a = mutate(
        flt, tmp_path, lambda h: h[8].insert_after("EXTVER", "BUNIT", "'COUNTS  '"), "a.fits"
    )
    b = mutate(flt, tmp_path, lambda h: h[8].insert_after("EXTVER", "BUNIT", "'ELECTRONS'"))
    _, code, out = check(a, b, capsys)
    assert code == 1 and "[ERR,3] BUNIT: 'COUNTS' in A, 'ELECTRONS' in B" in out


def test_a_keyword_written_twice_is_reported_by_occurrence(flt, tmp_path, capsys):
    def twice(hdus):
        hdus[3].cards.append(hdus[3].cards[hdus[3].index("EXTVER")])

    _, code, out = check(flt, mutate(flt, tmp_path, twice), capsys)
    assert code == 1 and "[DQ,1] EXTVER[2]: only in B (1)" in out


def test_ignored_keyword_is_said_to_be_ignored_and_why(flt, tmp_path, capsys):
    b = mutate(flt, tmp_path, lambda h: h[0].set("DATE", "'2031-01-01'"))
    result, code, out = check(flt, b, capsys)
    assert code == 0 and out.startswith("stischeck diff: IDENTICAL")
    assert [k.keyword for k in result.ignored] == ["DATE"]
    assert "DATE (date the file was written): differs in primary header" in out
    assert "in A, '2031-01-01' in B" in out


def test_ignored_history_is_compared_by_a_policy_that_extends_nothing(flt, tmp_path, capsys):
    b = mutate(flt, tmp_path, lambda h: h[0].cards.append("HISTORY extra line".ljust(80)))
    _, code, out = check(flt, b, capsys)
    assert code == 0 and "HISTORY (free-text processing log" in out
    policy = tmp_path / "none.toml"
    policy.write_text('schema_version = 1\nname = "bare"\nversion = "1"\nextends = "none"\n')
    result, code, out = check(flt, b, capsys, policy=policy)
    assert code == 1
    history = [k for k in result.keywords if k.keyword == "HISTORY"]
    assert len(history) == 1 and history[0].status == "only_b"
    assert "primary header HISTORY[" in out and "only in B ('extra line')" in out


def test_pixvalue_of_a_null_extension_is_reported(raw, tmp_path, capsys):
    comment = "values of pixels in constant array"
    b = mutate(raw, tmp_path, lambda h: h[2].set("PIXVALUE", "1.0", comment))
    result, code, out = check(raw, b, capsys)
    assert code == 1 and "[ERR,1] PIXVALUE: 0.0 in A, 1.0 in B" in out
    assert "ERR imset 1: 42400 of 42400 pixels differ" in out


def test_npix_of_a_null_extension_is_reported(raw, tmp_path, capsys):
    b = mutate(raw, tmp_path, lambda h: h[3].set("NPIX1", "1024"))
    result, code, out = check(raw, b, capsys)
    assert code == 1
    assert "[DQ,1] shape 1060x40 in A, 1024x40 in B; cards NPIX1 differ accordingly" in out


def test_bitpix_of_a_null_extension_is_reported(raw, tmp_path, capsys):
    b = mutate(raw, tmp_path, lambda h: h[5].set("BITPIX", "-64"))
    _, code, out = check(raw, b, capsys)
    assert code == 1 and "BITPIX" in out and "[ERR,2]" in out


def test_null_extension_and_its_expansion_differ_as_cards_not_as_pixels(raw, tmp_path, capsys):
    """A constant ERR written out (as astropy would) is not what hstio writes: cards differ."""

    def expand(hdus):
        err = hdus[2]
        nx, ny = int(err.value("NPIX1")), int(err.value("NPIX2"))
        for key in ("NPIX1", "NPIX2", "PIXVALUE"):
            err.delete(key)
        err.set("NAXIS", "2")
        err.insert_after("NAXIS", "NAXIS1", str(nx))
        err.insert_after("NAXIS1", "NAXIS2", str(ny))
        size = 4 * nx * ny
        err.data = b"\0" * (size + (-size % 2880))  # float32 zeros, as PIXVALUE = 0

    b = mutate(raw, tmp_path, expand)
    result, code, out = check(raw, b, capsys)
    assert code == 1
    assert [s.what for s in result.structure] == ["null"]
    err = next(e for e in result.extensions if (e.extname, e.extver) == ("ERR", 1))
    assert err.verdict == "identical"  # the pixels are the same
    assert "[ERR,1] stored differently: null extension, PIXVALUE = 0.0 for 1060x40 in A" in out
    assert "cards NAXIS, NPIX1, NPIX2, PIXVALUE, NAXIS1, NAXIS2 differ accordingly" in out


def test_the_same_null_extension_written_differently_is_identical(raw, tmp_path, capsys):
    """No false alarm: PIXVALUE = 0.0 and 0.0E+00 are one value; FITSDiff agrees."""
    comment = "values of pixels in constant array"
    b = mutate(raw, tmp_path, lambda h: h[2].set("PIXVALUE", "0.0E+00", comment))
    assert FITSDiff(str(raw), str(b)).identical
    result = diff_products(raw, b)
    assert result.verdict == "identical", result.findings()
    assert main(["diff", str(raw), str(b)]) == 0
    assert capsys.readouterr().out.startswith("stischeck diff: IDENTICAL")


def test_axes_declared_on_a_dataless_primary_are_reported(flt, tmp_path, capsys):
    """NAXIS = 2 with NAXIS1 = NAXIS2 = 0 still holds no data, but the cards differ."""

    def axes(hdus):
        hdus[0].set("NAXIS", "2", "number of data axes")
        hdus[0].insert_after("NAXIS", "NAXIS1", "0")
        hdus[0].insert_after("NAXIS1", "NAXIS2", "0")

    _, code, out = check(flt, mutate(flt, tmp_path, axes), capsys)
    assert code == 1
    assert "primary header NAXIS: 0 in A, 2 in B" in out
    assert "primary header NAXIS1: only in B (0)" in out
