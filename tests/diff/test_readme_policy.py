"""Policies extend the shipped default; the README's example policy parses and does what it says."""

import re
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from stischeck.diff import default_policy, diff_products
from stischeck.diff.policy import parse_policy
from stischeck.errors import InputFileError
from tests.diff.fitsedit import decompress, edited

README = Path(__file__).resolve().parents[2] / "README.md"
PRODUCT = "img_ampC_g4_sub1060x40_cr4_f28x50lp_expscorr/FLATCORR/onkqzf010_flt.fits.gz"


def readme_policy() -> str:
    text = README.read_text("utf-8")
    match = re.search(r"<!-- example-policy -->\n```toml\n(.*?)```", text, re.S)
    assert match, "README.md has no example policy block"
    return match.group(1)


def test_a_policy_without_extends_keeps_the_default_ignore_list():
    policy = parse_policy(
        'schema_version = 1\nname = "mine"\nversion = "1"\n'
        '[[data]]\nextension = "SCI"\nstatistic = "ulp"\nmax_ulp = 1\nreason = "test"\n',
        source="mine.toml",
    )
    assert set(default_policy().ignored_keywords) <= set(policy.ignored_keywords)
    assert policy.ignores("DATE") and policy.ignores("ORIGIN")
    assert policy.label == "mine v1, extends exact v1"


def test_extends_none_drops_the_default_ignore_list():
    policy = parse_policy(
        'schema_version = 1\nname = "bare"\nversion = "1"\nextends = "none"\n', source="b.toml"
    )
    assert policy.ignored_keywords == {} and not policy.ignores("DATE")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('extends = "strict"', "extends must be one of"),
        ('[headers]\ncompare = ["NOSUCH"]', "not on the inherited ignore list"),
        ('extends = "none"\n[headers]\ncompare = ["DATE"]', "not on the inherited ignore list"),
        ("[headers]\nignored = []", "unknown field"),
    ],
)
def test_bad_extends_and_compare_are_refused(text, problem):
    with pytest.raises(InputFileError, match=problem):
        parse_policy(f'schema_version = 1\nname = "x"\nversion = "1"\n{text}\n', source="p.toml")


def test_readme_example_policy_parses_as_described():
    policy = parse_policy(readme_policy(), source="README.md")
    assert (policy.name, policy.version, policy.extends) == ("flat-rounding", "1", "exact v1")
    # exact's list, minus CAL_VER (compared here), plus CRDS_CTX.
    expected = set(default_policy().ignored_keywords) - {"CAL_VER"} | {"CRDS_CTX"}
    assert set(policy.ignored_keywords) == expected
    assert policy.rules_for("FLATCORR", "SCI")["ulp"].max_ulp == 2
    assert policy.rules_for("FLATCORR", "ERR") == {}
    assert policy.rules_for("DARKCORR", "SCI") == {}
    assert policy.keyword_rule("MEANBLEV", "FLATCORR", "SCI").atol == 1e-4


@pytest.mark.corpus
def test_readme_example_policy_behaves_as_described(corpus_dir, tmp_path):
    src = corpus_dir / PRODUCT
    if not src.exists():
        pytest.skip(f"{src} not in this corpus")
    a = decompress(src, tmp_path / "a.fits")
    policy = parse_policy(readme_policy(), source="README.md")
    with fits.open(a) as hdul:
        value = hdul["SCI", 2].data[3, 4]
        meanblev = hdul["SCI", 1].header["MEANBLEV"]
    two_ulp = np.nextafter(np.nextafter(value, np.float32(np.inf)), np.float32(np.inf))

    def change(hdus):
        # SCI 2 pixel [5, 4] up by 2 ulps (big-endian float32 in the data bytes).
        sci = hdus[4]
        offset = (3 * 1024 + 4) * 4
        sci.data = sci.data[:offset] + np.array(two_ulp, ">f4").tobytes() + sci.data[offset + 4 :]
        hdus[0].set("DATE", "'2031-01-01'", "date this file was written (yyyy-mm-dd)")
        hdus[0].set("CRDS_CTX", "'hst_1234.pmap'")
        sci1 = hdus[1]
        card = sci1.cards[sci1.index("MEANBLEV")]
        sci1.cards[sci1.index("MEANBLEV")] = card[:10] + f"{meanblev + 5e-5:20.10f}" + card[30:]

    b = edited(a, tmp_path / "b.fits", change)
    result = diff_products(a, b, policy=policy, step="FLATCORR")
    assert result.verdict == "agree", result.findings()
    assert {k.keyword for k in result.ignored} == {"DATE", "CRDS_CTX"}
    assert [k.keyword for k in result.keywords] == ["MEANBLEV"]
    assert result.keywords[0].status == "within"
    # The ulp rule is for FLATCORR only: on another step the same files differ.
    assert diff_products(a, b, policy=policy, step="DARKCORR").verdict == "differ"

    def cal_ver(hdus):
        hdus[0].set("CAL_VER", "'9.9.9'")

    c = edited(a, tmp_path / "c.fits", cal_ver)
    assert diff_products(a, c).verdict == "identical"  # exact ignores CAL_VER
    compared = diff_products(a, c, policy=policy, step="FLATCORR")
    assert [(k.keyword, k.status) for k in compared.keywords] == [("CAL_VER", "differ")]


@pytest.mark.corpus
def test_custom_policy_on_the_command_line_still_ignores_date(corpus_dir, tmp_path, capsys):
    from stischeck.cli import main

    src = corpus_dir / PRODUCT
    if not src.exists():
        pytest.skip(f"{src} not in this corpus")
    a = decompress(src, tmp_path / "a.fits")
    b = edited(a, tmp_path / "b.fits", lambda h: h[1].set("DATE", "'2031-01-01'"))
    policy = tmp_path / "p.toml"
    policy.write_text(
        'schema_version = 1\nname = "mine"\nversion = "1"\n'
        '[[data]]\nextension = "ERR"\nstatistic = "ulp"\nmax_ulp = 1\nreason = "test"\n'
    )
    code = main(["diff", str(a), str(b), "--policy", str(policy)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "policy mine v1, extends exact v1" in out
    assert "DATE (date the file was written): differs in [SCI,1]" in out
