"""compare --keep: what a finished compare leaves under runs/ (issue 17's disk target)."""

import csv

import pytest

from stischeck.cli import main
from stischeck.compare.keep import NOT_KEPT, prune_agreeing_runs

pytestmark = pytest.mark.corpus

CASE = "img_ampB_g1_sub1060x48_cr1"  # CRSPLIT=1, 1060x48 subarray: every rung agrees


def _compare(corpus_dir, out, *extra):
    case = corpus_dir / CASE
    raw = next(case.glob("*_raw.fits*"))
    argv = ["compare", str(raw), "--oref", str(case / "oref"), "--truth", str(case),
            "--no-calstis", "--outdir", str(out), *extra]  # fmt: skip
    assert main(argv) == 0
    return out


def _fits(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.fits"))


def test_by_default_agreeing_configurations_lose_their_staged_input_and_products(
    corpus_dir, tmp_path, capsys
):
    out = _compare(corpus_dir, tmp_path / "out")
    flat = out / "runs" / "FLATCORR"
    assert not (flat / "input").exists()
    assert not list(flat.rglob("*.fits"))
    assert (flat / NOT_KEPT).is_file()
    assert (flat / "reference" / "reference.log").is_file()  # the trailer stays
    for table in ("verdicts.csv", "runs.csv", "summary.json", "report.html"):
        assert (out / table).is_file(), table


def test_keep_all_leaves_every_staged_input_and_product(corpus_dir, tmp_path, capsys):
    out = _compare(corpus_dir, tmp_path / "out", "--keep", "all")
    flat = out / "runs" / "FLATCORR"
    assert (flat / "input").is_dir() and list(flat.rglob("*_flt.fits"))
    assert not list(out.rglob(NOT_KEPT))


def test_a_configuration_whose_sides_differ_keeps_its_products(corpus_dir, tmp_path, capsys):
    out = _compare(corpus_dir, tmp_path / "out", "--keep", "all", "--no-html")
    before = _fits(out / "runs" / "DARKCORR")
    with (out / "verdicts.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["configuration"] == "DARKCORR":
            row["verdict"] = "differ"
    with (out / "verdicts.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    removed = prune_agreeing_runs(out, "differing")
    assert removed > 0
    assert _fits(out / "runs" / "DARKCORR") == before and before
    assert not list((out / "runs" / "FLATCORR").rglob("*.fits"))


def test_a_report_rendered_again_from_a_thinned_folder_says_the_products_were_not_kept(
    corpus_dir, tmp_path, capsys
):
    out = _compare(corpus_dir, tmp_path / "out")
    capsys.readouterr()
    assert main(["report", str(out), "--out", str(tmp_path / "again.html")]) == 0
    page = (tmp_path / "again.html").read_text()
    assert "not kept: The sides agreed on this configuration" in page
    assert "--keep all" in page


def test_unreadable_tables_keep_everything(tmp_path):
    config = tmp_path / "runs" / "FLATCORR" / "reference"
    config.mkdir(parents=True)
    (config / "x_flt.fits").write_bytes(b"0" * 2880)
    assert prune_agreeing_runs(tmp_path, "differing") == 0
    assert (config / "x_flt.fits").is_file()
