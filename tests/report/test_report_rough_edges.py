"""What the report's words and figures must agree on (issue 15, rough edges): the lines a
caption names are drawn, the colours it names are the image's, imsets are told apart, a lone
histogram bar is clear of the axis edge, float32 keywords read at their own precision."""

import re

import numpy as np
import pytest

from stischeck.report import figures
from stischeck.report.folder import load_folder, read_inputs
from stischeck.report.html import _kw
from stischeck.report.model import build_model

html5lib = pytest.importorskip("html5lib")


def _text(path) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")).split())


def _histogram_captions(text: str) -> list:
    return re.findall(r"Histogram of SCI[^.]*\.", text)


def _product_histograms(model) -> list:
    return [p.hist for s in model.sections for p in s.products if p.hist is not None]


@pytest.mark.parametrize("which", ["tiny_folder", "demo_folder"])
def test_the_dashed_zero_line_is_named_only_where_zero_is_on_the_axis(which, request):
    from stischeck.report import write_report

    folder = request.getfixturevalue(which)
    text = _text(write_report(folder, out=folder / f"{which}.html"))
    hists = _product_histograms(build_model(read_inputs(load_folder(folder))))
    captions = _histogram_captions(text)
    assert len(captions) == len(hists)
    for caption, hist in zip(captions, hists, strict=True):
        on_axis = float(hist.edges[0]) < 0 < float(hist.edges[-1])
        assert ("dashed line zero" in caption) == on_axis, (caption, hist.edges[[0, -1]])


def test_the_raw_histogram_does_not_name_a_zero_line(tiny_folder):
    model = build_model(read_inputs(load_folder(tiny_folder)))
    raw = next(s for s in model.sections if s.name == "RAW").products[0].hist
    assert not figures.zero_line_shown(raw)
    blev = next(s for s in model.sections if s.name == "BLEVCORR").products[0].hist
    assert figures.zero_line_shown(blev)  # BLEVCORR's histogram straddles zero


def test_the_one_half_line_is_named_only_when_it_is_on_the_axis(demo_folder, tiny_folder):
    from stischeck.report import write_report

    assert not figures.half_line_shown({"calstis": [0.0, 0.001, 0.02], "reference": [0.0]})
    assert figures.half_line_shown({"calstis": [0.0, 0.48, None]})
    demo = _text(write_report(demo_folder, out=demo_folder / "half.html"))
    assert "Share of negative good pixels" in demo and "dotted line is one half" not in demo
    tiny = _text(write_report(tiny_folder, out=tiny_folder / "half.html"))
    assert "dotted line is one half" in tiny  # about half of BLEVCORR's pixels are negative


def test_the_difference_colour_bar_names_the_colour_equal_pixels_have(wrong_step_folder):
    from PIL import Image

    png = figures.image_png(np.zeros((4, 4)), -1.0, 1.0, "RdBu_r")
    import io

    equal = Image.open(io.BytesIO(png)).convert("RGB").getpixel((0, 0))
    assert equal != (255, 255, 255) and max(equal) - min(equal) <= 3  # a pale grey, not white
    text = _text(wrong_step_folder / "report.html")
    assert "white = equal" not in text
    assert "the pale grey centre of the bar = equal (Δ = 0)" in text


def test_a_single_bar_difference_histogram_stands_clear_of_the_axis_edges(tiny_folder):
    model = build_model(read_inputs(load_folder(tiny_folder)))
    blev = next(s for s in model.sections if s.name == "BLEVCORR")
    hist = blev.products[0].diffs[0].hist  # one differing pixel: +0.5 DN
    edges = hist.edges
    (counts,) = [c for _, c in hist.series["difference"]]
    (bins,) = np.nonzero(counts)
    assert len(bins) == 1
    width = edges[-1] - edges[0]
    assert edges[bins[0]] - edges[0] >= 0.1 * width
    assert edges[-1] - edges[bins[0] + 1] >= 0.1 * width


def _lab(colour: str) -> np.ndarray:
    c = np.array([int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)])
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ c / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize(
    "side", ["calstis", "reference", "truth", "input"], ids=lambda s: f"{s}-side"
)
def test_imset_1_and_imset_2_lines_are_distinct_colours(side):
    first, second = figures._SHADES[side][:2]
    assert np.linalg.norm(_lab(first) - _lab(second)) >= 45  # CIE76 ΔE: clearly different


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.80000001, "0.8"),
        (20.848333, "20.848333"),
        (600.0, "600"),
        (0.1234567890123, "0.12345679"),
    ],
)
def test_float32_keywords_are_shown_at_their_own_precision(value, text):
    assert _kw(value) == text


def test_the_cr_parameters_table_shows_crthresh_as_written_in_float32(demo_folder):
    from stischeck.report import write_report

    text = _text(write_report(demo_folder, out=demo_folder / "cr.html"))
    assert "CRTHRESH" in text
    assert "0.80000001" not in text


def _flag_a_hot_rejected_pixel(folder, *, x=5, y=7, value=-2000.0, dq=8208):
    """Make one pixel of BLEVCORR's products (both sides) a negative flagged HOTPIX|DATAREJECT."""
    from astropy.io import fits

    for side in ("calstis", "reference"):
        (path,) = (folder / "runs" / "BLEVCORR" / side).rglob("*_flt.fits")
        with fits.open(path, mode="update") as hdul:
            hdul["SCI", 1].data[y - 1, x - 1] = value
            hdul["DQ", 1].data[y - 1, x - 1] = dq
    return x, y


def test_negative_flagged_pixels_are_counted_by_flag_and_explained(tiny_folder):
    x, y = _flag_a_hot_rejected_pixel(tiny_folder)
    model = build_model(read_inputs(load_folder(tiny_folder)))
    row = next(n for n in model.negatives if (n.config, n.side) == ("BLEVCORR", "calstis"))
    assert row.flagged_dq.get(8208) == 1 and row.flagged_min == -2000.0
    text = dict(model.negative_text)["BLEVCORR"]
    assert "flagged pixel" in text and "8208 (HOTPIX|DATAREJECT)" in text
    assert "hot pixel" in text and "rejected as a cosmic ray in every imset" in text


def test_the_most_negative_flagged_pixel_is_followed_and_its_flags_explain_it(tiny_folder):
    x, y = _flag_a_hot_rejected_pixel(tiny_folder)
    model = build_model(read_inputs(load_folder(tiny_folder)))
    flagged = [w for w in model.waterfalls if (w.x, w.y) == (x, y)]
    assert flagged, [w.why for w in model.waterfalls]
    (wf,) = flagged
    assert "flagged" in wf.why and "HOTPIX|DATAREJECT" in wf.why
    words = " ".join(wf.explanation)
    assert "DQ 8208: HOTPIX|DATAREJECT" in words and "SKYSUM" in words
    assert "× ERR above zero" not in words  # a negative value is not "above zero"
    good = [w for w in model.waterfalls if w.why.startswith("most negative good pixel")]
    assert good  # the good pixels are still followed


def test_a_bright_pixel_is_not_described_as_scattering_around_zero(tiny_folder):
    from stischeck.report import write_report

    # raw [13, 11] holds 5000 DN (FITS x 9 after the 4 overscan columns are trimmed)
    model = build_model(read_inputs(load_folder(tiny_folder)), pixels=[(9, 11)])
    (wf,) = [w for w in model.waterfalls if w.why == "requested with --pixel"]
    words = " ".join(wf.explanation)
    assert "scatters around zero" not in words
    assert "a bright pixel, far above the noise" in words
    write_report(tiny_folder, pixels=["9,11"])


def test_a_single_panel_histogram_does_not_speak_of_both_sides(tiny_folder):
    from stischeck.report import write_report

    captions = _histogram_captions(_text(write_report(tiny_folder)))
    raw = captions[0]  # the RAW section shows the input alone
    assert "both sides" not in raw
    assert any("the same bins on both sides" in c for c in captions[1:])
