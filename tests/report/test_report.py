"""The HTML report: self-contained, images decode, every configuration shown, failures first."""

import base64
import hashlib
import io
import re
from pathlib import Path

import pytest

from stischeck.cli import main
from tests.report.conftest import make_tiny_folder

html5lib = pytest.importorskip("html5lib")

SMALL = "img_ampC_g4_sub1060x40_cr4_f28x50lp_expscorr"


def parse(path: Path):
    """Parse strictly (html5lib raises on any tokenizer or tree-construction error)."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(path.read_text(encoding="utf-8"))


def text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


def first_data_row(table):
    rows = [tr for tr in table.iter("tr") if tr.find("td") is not None]
    return [text_of(td) for td in rows[0].findall("td")]


def configurations(folder: Path) -> list:
    import pandas as pd

    return list(pd.read_csv(folder / "configurations.csv")["configuration"])


# --------------------------------------------------------------------------- structure


def test_report_parses_as_html5(demo_folder):
    tree = parse(demo_folder / "report.html")
    assert tree.find(".//title") is not None
    assert tree.find(".//h1") is not None


def test_report_references_nothing_outside_itself(demo_folder):
    text = (demo_folder / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<script\b", text, re.I)
    assert not re.search(r"<link\b", text, re.I)
    assert not re.search(r"@import", text, re.I)
    external = r"""(?:src|href)\s*=\s*["']?\s*(?:[a-z]+:)?//|url\(\s*["']?\s*(?:[a-z]+:)?//"""
    assert not re.search(external, text, re.I)
    assert not re.search(r"https?://", text, re.I)
    tree = parse(demo_folder / "report.html")
    ids = {e.get("id") for e in tree.iter() if e.get("id")}
    for a in tree.iter("a"):
        href = a.get("href")
        if href is not None:
            assert href.startswith("#") and href[1:] in ids, href
    for img in tree.iter("img"):
        assert img.get("src", "").startswith("data:image/png;base64,")


def test_every_embedded_image_decodes(demo_folder):
    from PIL import Image

    tree = parse(demo_folder / "report.html")
    images = list(tree.iter("img"))
    assert len(images) > 20
    for img in images:
        data = base64.b64decode(img.get("src").split(",", 1)[1], validate=True)
        with Image.open(io.BytesIO(data)) as im:
            im.verify()
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            assert im.format == "PNG" and im.width > 0 and im.height > 0
            if "px" in (img.get("class") or "").split():
                # pixel images are shown at an integer multiple of their size
                assert int(img.get("width")) % im.width == 0
                assert int(img.get("height")) % im.height == 0
                assert int(img.get("width")) // im.width == int(img.get("height")) // im.height


def test_every_configuration_has_its_section(demo_folder):
    tree = parse(demo_folder / "report.html")
    sections = {h.get("id"): text_of(h) for h in tree.iter("h2") if h.get("id")}
    for name in configurations(demo_folder):
        assert f"cfg-{name}" in sections, name
        assert sections[f"cfg-{name}"].startswith(name)
    for anchor in ("verdicts", "negatives", "trailers", "provenance"):
        assert anchor in sections


def test_first_screen_has_provenance_and_no_divergence(demo_folder):
    text = text_of(parse(demo_folder / "report.html"))
    head = text[: text.index("Verdicts")]
    assert "stistools" in head and "data set owj6k3010" in head and "cs0.e" in head
    assert "No divergent step" in head


def test_trailers_and_provenance_are_collapsed(demo_folder):
    tree = parse(demo_folder / "report.html")
    body = list(tree.find(".//main"))
    ids = [e.get("id") for e in body]
    for anchor in ("trailers", "provenance"):
        after = body[ids.index(anchor) + 1]
        assert after.tag == "details" and after.get("open") is None


# --------------------------------------------------------------------------- a wrong step


def test_a_wrong_step_is_first_in_the_verdict_table(wrong_step_folder):
    tree = parse(wrong_step_folder / "report.html")
    table = next(t for t in tree.iter("table") if t.get("id") == "failures")
    cells = first_data_row(table)
    assert cells[0] == "BIASCORR" and "differ" in cells
    rows = [tr for tr in table.iter("tr") if tr.find("td") is not None]
    assert {text_of(tr.find("td")) for tr in rows} <= {"BIASCORR", "CRCORR", "DARKCORR", "FLATCORR"}
    # the first divergent step is called out before the table, and its ladder rung marked
    text = text_of(tree.find(".//main"))
    assert text.index("First divergent step: BIASCORR") < text.index("Failures, in ladder order")
    marked = [a for a in tree.iter("a") if "first" in (a.get("class") or "").split()]
    assert [text_of(a).split()[0] for a in marked] == ["BIASCORR"]


def test_a_wrong_step_gets_a_difference_map(wrong_step_folder):
    tree = parse(wrong_step_folder / "report.html")
    titles = [text_of(h) for h in tree.iter("h4")]
    assert any(t.startswith("ΔSCI = reference − truth") for t in titles), titles
    # the waterfall shows the one-DN step of the reference at BIASCORR
    assert "reference − truth" in text_of(tree.find(".//main"))


# --------------------------------------------------------------------------- stischeck report


def test_report_on_a_missing_folder_is_one_line_exit_2(tmp_path, capsys):
    missing = tmp_path / "nope"
    assert main(["report", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == f"stischeck: {missing}: compare output folder not found\n"


def test_report_on_a_folder_that_is_not_a_compare_output_is_one_line_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(tmp_path) in err and "summary.json" in err and "Traceback" not in err


def test_report_on_a_broken_table_is_one_line_exit_2(tiny_folder, capsys):
    (tiny_folder / "summary.json").write_text("{not json")
    assert main(["report", str(tiny_folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"stischeck: {tiny_folder / 'summary.json'}: not valid JSON")
    assert len(err.splitlines()) == 1


def test_report_rerenders_without_touching_the_folder(tiny_folder, capsys, tmp_path):
    before = {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in tiny_folder.rglob("*") if p.is_file()
    }
    out = tmp_path / "elsewhere.html"
    assert main(["report", str(tiny_folder), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    after = {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in tiny_folder.rglob("*") if p.is_file()
    }
    assert after == before
    # rendering is deterministic: the same folder gives the same page
    assert main(["report", str(tiny_folder)]) == 0
    assert (tiny_folder / "report.html").read_bytes() == out.read_bytes()


def test_pixel_is_followed_through_the_steps_in_final_coordinates(tiny_folder):
    from stischeck.report import write_report

    path = write_report(tiny_folder, pixels=["3,5"])
    tree = parse(path)
    heads = [text_of(h) for h in tree.iter("h4")]
    assert "[3, 5] — requested with --pixel" in heads
    text = text_of(tree.find(".//main"))
    # the raw frame has 4 overscan columns before the trimmed area (LTV1 4 -> 0)
    assert "[3, 5] of the final product is [7, 5] of the raw, untrimmed frame" in text
    assert "FITS [x, y], 1-based, in the final product" in text


@pytest.mark.parametrize(
    ("pixel", "message"),
    [
        ("100,5", "--pixel 100,5: outside the final product tiny00010_flt.fits (24 x 16"),
        ("3;5", "--pixel 3;5: give X,Y as two integers"),
        ("0,5", "--pixel 0,5: FITS pixel coordinates start at 1"),
    ],
)
def test_bad_pixel_is_one_line_exit_2(tiny_folder, capsys, pixel, message):
    assert main(["report", str(tiny_folder), "--pixel", pixel]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"stischeck: {message}") and err.count("\n") == 1


def test_a_calstis_error_is_shown_where_its_images_would_be(tmp_path):
    from stischeck.report import write_report

    folder = make_tiny_folder(tmp_path / "tiny", calstis_error=True)
    tree = parse(write_report(folder))
    table = next(t for t in tree.iter("table") if t.get("id") == "failures")
    cells = first_data_row(table)
    assert cells[0] == "BLEVCORR" and "error" in cells
    section = text_of(tree.find(".//main"))
    section = section[section.index("BLEVCORR error") :]
    assert "killed by SIGSEGV" in section


def test_a_single_differing_pixel_survives_in_the_difference_map(tiny_folder):
    from stischeck.report.folder import load_folder, read_inputs
    from stischeck.report.model import build_model

    model = build_model(read_inputs(load_folder(tiny_folder)))
    blev = next(s for s in model.sections if s.name == "BLEVCORR")
    diff = blev.products[0].diffs[0]
    assert (diff.extname, diff.imset, diff.n_nonzero) == ("SCI", 1, 1)
    assert diff.image[4, 2] == pytest.approx(0.5)  # FITS [3, 5], numpy (y, x) = (4, 2)
    dqicorr = next(s for s in model.sections if s.name == "DQICORR")
    (row,) = dqicorr.products[0].dq_rows
    assert (row.name, row.left, row.right, row.both) == ("SATPIXEL", 2, 2, 2)


def test_negative_counts_follow_the_steps(tiny_folder):
    from stischeck.report.folder import load_folder, read_inputs
    from stischeck.report.model import build_model

    model = build_model(read_inputs(load_folder(tiny_folder)))
    by = {(n.config, n.side): n for n in model.negatives}
    assert by["RAW", "input"].n_negative == 0
    assert by["DQICORR", "calstis"].n_negative == 0
    blev = by["BLEVCORR", "calstis"]
    # 100 DN subtracted from values scattering around 100 by 3 DN: about half below zero
    assert 0.35 < blev.fraction < 0.65
    assert model.waterfalls and model.waterfalls[0].why.startswith("most negative")


# --------------------------------------------------------------------------- display helpers


def test_block_extreme_keeps_a_single_pixel_and_its_sign():
    import numpy as np

    from stischeck.report.display import block_extreme, block_mean

    a = np.zeros((6, 6), np.float32)
    a[4, 1] = -3.0
    shown = block_extreme(a, 4)
    assert shown.shape == (2, 2) and shown[1, 0] == -3.0 and np.count_nonzero(shown) == 1
    a[0, 0] = np.nan
    assert np.isfinite(block_mean(a, 2)).all()


def test_whole_number_data_get_whole_dn_bins():
    import numpy as np

    from stischeck.report.display import bin_edges, is_integral

    assert is_integral([np.array([1300.0, 1301.0, 1302.0])])
    edges = bin_edges(1290.3, 1340.2, 120, integral=True)
    assert edges[0] == 1289.5 and np.all(np.diff(edges) == 1.0)


# --------------------------------------------------------------------------- corpus and calstis


def _compare(corpus_dir, tmp_path, *extra):
    case = corpus_dir / SMALL
    out = tmp_path / "out"
    code = main(
        [
            "compare",
            str(case / "onkqzf010_raw.fits.gz"),
            "--oref",
            str(case / "oref"),
            "--outdir",
            str(out),
            "--steps",
            "BLEVCORR,CRCORR",
            *extra,
        ]
    )
    return code, out


@pytest.mark.corpus
def test_compare_writes_the_report_next_to_its_tables(corpus_dir, tmp_path, capsys):
    code, out = _compare(corpus_dir, tmp_path, "--truth", str(corpus_dir / SMALL), "--no-calstis")
    capsys.readouterr()
    assert code == 0
    tree = parse(out / "report.html")
    ids = {e.get("id") for e in tree.iter() if e.get("id")}
    assert {"cfg-BLEVCORR", "cfg-CRCORR"} <= ids and "cfg-DQICORR" not in ids
    text = text_of(tree.find(".//main"))
    assert "CRREJTAB parameters used" in text and "CRSIGMAS" in text


@pytest.mark.calstis
@pytest.mark.corpus
def test_live_calstis_report_names_cs0e_and_keeps_its_trailers(
    corpus_dir, calstis_path, tmp_path, capsys
):
    code, out = _compare(corpus_dir, tmp_path, "--calstis", str(calstis_path))
    capsys.readouterr()
    assert code == 0
    tree = parse(out / "report.html")
    text = text_of(tree.find(".//main"))
    head = text[: text.index("Verdicts")]
    assert re.search(r"cs0\.e \d+\.\d+", head), head
    assert "CALSTIS-0" in text  # the trailer, inside a collapsed <details>


# --------------------------------------------------------------------------- a look at it


@pytest.mark.slow
def test_headless_chromium_renders_a_full_page_screenshot(wrong_step_folder, tmp_path):
    import subprocess

    import numpy as np
    from PIL import Image

    chromium = Path("/usr/bin/chromium")
    if not chromium.is_file():
        pytest.skip("headless Chromium not found at /usr/bin/chromium")
    shot = tmp_path / "report.png"
    profile = tmp_path / "profile"
    profile.mkdir()
    cmd = [
        str(chromium),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--screenshot={shot}",
        "--window-size=1400,24000",
        (wrong_step_folder / "report.html").as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("RGB"))
    content = np.flatnonzero((pixels < 250).any(axis=(1, 2)))
    assert content.size and content.max() > 5000  # a long page, drawn to the end
    red = (pixels[..., 0] > 180) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)
    assert red.any()  # the differ badges
    (wrong_step_folder / "report-screenshot.png").write_bytes(shot.read_bytes())
