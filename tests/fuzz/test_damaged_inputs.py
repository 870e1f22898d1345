"""Damaged inputs: whatever is wrong with a file, one clear line and nothing else.

Hypothesis mutates a corpus raw file (a header card's value replaced by a
hostile text, a card removed, a byte changed, the file cut short), a corpus
product (for ``diff``) and a reference file, then runs the command line in
this process and asserts: exit 0, 1 or 2; on 2 exactly one line on stderr,
naming the file; never "internal error" or a traceback; the input unchanged;
no child process left. Seeded and bounded (a few seconds) under the ``ci``
profile; ``HYPOTHESIS_PROFILE=thorough`` runs many more examples.
"""

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from stischeck.cli import main
from stischeck.runners.process import live_children
from stischeck.validate import PRIMARY_SCHEMA, SCI_SCHEMA
from tests.support import mutate

CASE = "img_ampB_g1_sub1060x48_cr1"  # one imset, 1060 x 48: the quickest corpus case
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
EXAMPLES = 400 if THOROUGH else 12
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not THOROUGH,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Value texts a damaged or hand-edited card may hold.
HOSTILE = (
    "NAN",
    "INF",
    "'abc'",
    "'x'",
    "''",
    "1E30",
    "-1E30",
    "1E308",
    "-1",
    "0",
    "99999",
    "2.5",
    "T",
    "F",
    "123456789012345678901234567890",
    "'PERFORM '",
    "'MAYBE'",
    "(1, 2)",
    "= 5",
)
PRIMARY_KEYS = (*PRIMARY_SCHEMA, "NAXIS", "BITPIX", "INSTRUME", "SIMPLE", "EXTEND")
EXT_KEYS = (*SCI_SCHEMA, "NAXIS", "NAXIS1", "NAXIS2", "BITPIX", "EXTVER", "EXTNAME", "PIXVALUE")
EXT_KEYS += ("NPIX1", "NPIX2")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base(corpus_dir, tmp_path_factory):
    """The case's raw bytes with only DQICORR and BLEVCORR on (quick), its layout and oref."""
    folder = corpus_dir / CASE
    raw = next(folder.glob("*_raw.fits*"))
    data = mutate.load(raw)
    lay = mutate.layout(data)
    for switch in ("BIASCORR", "CRCORR", "EXPSCORR", "DARKCORR", "FLATCORR"):
        data = mutate.set_card(data, lay, 0, switch, "'OMIT    '")
    out = tmp_path_factory.mktemp("fuzz-base")
    oref = out / "oref"
    shutil.copytree(folder / "oref", oref)
    product = next((folder / "DQICORR").glob("*_flt.fits*"))
    return _Base(data=data, layout=lay, oref=oref, name=raw.name.split(".fits")[0] + ".fits",
                 product=product, oref_src=folder / "oref")  # fmt: skip


class _Base(dict):
    """The fuzz inputs; a short repr, not half a megabyte of bytes in a failure report."""

    def __repr__(self) -> str:
        return f"<fuzz base {self['name']}>"


#: One damage of a file's bytes, independent of the file: (kind, HDU, keyword, value, where).
DAMAGE = st.tuples(
    st.sampled_from(["card", "card", "card", "delete", "byte", "truncate"]),
    st.integers(0, 3),
    st.integers(0, 10_000),
    st.sampled_from(HOSTILE),
    st.floats(0.0, 0.999),
    st.sampled_from([0x00, 0x09, 0x27, 0x3D, 0xE9, 0xFF]),
)
DAMAGES = st.lists(DAMAGE, min_size=1, max_size=2)


def apply(data: bytes, lay, damages: list) -> bytes:
    """Apply each damage to the bytes, resolving HDU and keyword against the layout."""
    for kind, hdu_pick, key_pick, value, where, byte in damages:
        index = hdu_pick % len(lay.hdus)
        keys = PRIMARY_KEYS if index == 0 else EXT_KEYS
        key = keys[key_pick % len(keys)]
        hdu = lay.hdus[index]
        if kind == "card":
            data = mutate.set_card(data, lay, index, key, value)
        elif kind == "delete":
            data = mutate.delete_card(data, lay, index, key)
        elif kind == "byte":
            data = mutate.flip(data, hdu.start + int(where * (hdu.data_start - hdu.start)), byte)
        else:
            data = mutate.truncate(data, where)
    return data


def assert_one_clear_line(code: int, err: str, named: Path) -> None:
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err and "internal error" not in err, err
    lines = [line for line in err.splitlines() if "warning: CR rejection" not in line]
    if code == 2:
        assert len(lines) == 1, err
        assert str(named) in lines[0] or named.name in lines[0], err
    assert live_children() == []


@pytest.mark.corpus
@seed(21)
@FUZZ
@given(damages=DAMAGES)
def test_reference_on_a_damaged_raw_file_says_one_clear_line(
    base, tmp_path_factory, damages, capsys
):
    work = tmp_path_factory.mktemp("fuzz-raw")
    raw = work / base["name"]
    raw.write_bytes(apply(base["data"], base["layout"], damages))
    before = sha(raw)
    code = main(["reference", str(raw), "--oref", str(base["oref"]), "--outroot", f"{work}/out/"])
    err = capsys.readouterr().err
    assert_one_clear_line(code, err, raw)
    assert sha(raw) == before


@pytest.mark.corpus
@seed(21)
@FUZZ
@given(damages=DAMAGES)
def test_diff_of_a_damaged_product_says_one_clear_line(base, tmp_path_factory, damages, capsys):
    product = mutate.load(base["product"])
    lay = mutate.layout(product)
    work = tmp_path_factory.mktemp("fuzz-diff")
    damaged = work / "damaged_flt.fits"
    damaged.write_bytes(apply(product, lay, damages))
    before = sha(damaged)
    code = main(["diff", str(base["product"]), str(damaged), "--csv", str(work / "t.csv")])
    err = capsys.readouterr().err
    assert_one_clear_line(code, err, damaged)
    assert sha(damaged) == before
    if code == 2:
        assert not (work / "t.csv").exists()


#: Reference files and the damage they take (the CCDTAB and CRREJTAB are tables).
REFERENCE_DAMAGE = st.tuples(
    st.sampled_from(["bia", "ccd", "bpx", "crr"]),
    st.sampled_from(["card", "delete", "byte", "truncate"]),
    st.sampled_from(("NAXIS1", "NAXIS2", "NAXIS", "BITPIX", "EXTNAME", "NROWS", "TFIELDS")),
    st.sampled_from(HOSTILE),
    st.floats(0.05, 0.999),
)


@pytest.mark.corpus
@seed(21)
@FUZZ
@given(damage=REFERENCE_DAMAGE)
def test_reference_with_a_damaged_reference_file_says_one_clear_line(
    base, tmp_path_factory, damage, capsys
):
    which, kind, key, value, where = damage
    work = tmp_path_factory.mktemp("fuzz-ref")
    oref = work / "oref"
    shutil.copytree(base["oref_src"], oref)
    target = next(p for p in sorted(oref.iterdir()) if f"_{which}" in p.name)
    data = mutate.load(target)
    lay = mutate.layout(data)
    index = min(1, len(lay.hdus) - 1)
    if kind == "card":
        data = mutate.set_card(data, lay, index, key, value)
    elif kind == "delete":
        data = mutate.delete_card(data, lay, index, key)
    elif kind == "byte":
        data = mutate.flip(data, int(where * lay.hdus[index].data_start), 0xE9)
    else:
        data = mutate.truncate(data, where)
    target.unlink()
    target = target.with_name(target.name.removesuffix(".gz"))
    target.write_bytes(data)
    raw = work / base["name"]
    switches = mutate.set_card(base["data"], base["layout"], 0, "BIASCORR", "'PERFORM '")
    raw.write_bytes(switches)
    before = sha(target)
    code = main(["reference", str(raw), "--oref", str(oref), "--outroot", f"{work}/out/"])
    err = capsys.readouterr().err
    assert code in (0, 1, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 2:
        lines = [line for line in err.splitlines() if "warning: CR rejection" not in line]
        assert len(lines) == 1, err
        assert target.name.split(".fits")[0] in lines[0], err
    assert sha(target) == before
    assert live_children() == []
