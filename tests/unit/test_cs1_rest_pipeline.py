"""The rest of calstis1 through the pipeline, synth and compare, without calstis."""

import numpy as np
import pytest
from astropy.io import fits

from reference_impl.io.products import write_product
from reference_impl.io.rawfile import read_raw
from reference_impl.pipeline import calibrate
from stischeck import config as cfg
from stischeck.runners.outcome import check_products
from stischeck.synth import SynthParams, write_dataset


def _run(tmp_path, **kw):
    paths = write_dataset(SynthParams(seed=3, crsplit=1, n_stars=20, **kw), tmp_path / "d")
    result = calibrate(read_raw(paths.raw), oref_dir=paths.oref)
    out = write_product(result.products[0], read_raw(paths.raw).primary_header, tmp_path / "p.fits")
    return paths, fits.getheader(out)


def test_photcorr_writes_the_keywords_with_calstis_card_text(tmp_path):
    _, header = _run(tmp_path, photcorr=True)
    assert header["PHOTCORR"] == "COMPLETE"
    for key in ("PHOTFLAM", "PHOTZPT", "PHOTPLAM", "PHOTBW"):
        text = header.cards[key].image[10:30].strip()
        assert text == f"{float(np.float32(header[key])):.7E}", key


def test_photcorr_keeps_the_comment_of_an_existing_photometry_card(tmp_path):
    paths = write_dataset(SynthParams(seed=3, crsplit=1, n_stars=20, photcorr=True), tmp_path / "d")
    with fits.open(paths.raw, mode="update") as hdul:
        hdul[0].header.insert("PHOTMODE", ("PHOTFLAM", 0.0, "raw comment"), after=True)
    raw = read_raw(paths.raw)
    result = calibrate(raw, oref_dir=paths.oref)
    header = fits.getheader(write_product(result.products[0], raw.primary_header, tmp_path / "p"))
    assert header.comments["PHOTFLAM"] == "raw comment" and header["PHOTFLAM"] != 0.0
    assert header.comments["PHOTBW"] == "RMS bandwidth"


@pytest.mark.parametrize(("variant", "state"), [("missing", "SKIPPED"), ("dummy", "SKIPPED")])
def test_photcorr_without_a_usable_row_is_skipped_without_keywords(tmp_path, variant, state):
    _, header = _run(tmp_path, photcorr=True, imphttab=variant)
    assert header["PHOTCORR"] == state and "PHOTFLAM" not in header


def test_photcorr_of_a_spectrum_leaves_the_switch_and_writes_no_keywords(tmp_path):
    _, header = _run(tmp_path, photcorr=True, obstype="SPECTROSCOPIC")
    assert header["PHOTCORR"] == "PERFORM" and "PHOTFLAM" not in header
    assert header["PHOTMODE"].startswith("STIS 52X2 A2D1 G430L CCD 4300 MJD#")


def test_a_rowdummy_imphttab_of_a_spectrum_can_be_written(tmp_path):
    # The spectroscopic aperture has no IMPHTTAB row to mark (this raised ValueError).
    paths = write_dataset(
        SynthParams(seed=2, obstype="SPECTROSCOPIC", photcorr=True, imphttab="rowdummy"),
        tmp_path / "d",
    )
    assert paths.raw.is_file()


def test_atodcorr_and_shadcorr_change_the_pixels_and_complete(tmp_path):
    _, plain = _run(tmp_path / "a")
    paths, header = _run(tmp_path / "b", atodcorr="perform", shadcorr="perform")
    assert header["ATODCORR"] == "COMPLETE" and header["SHADCORR"] == "COMPLETE"
    a = fits.getdata(tmp_path / "a" / "p.fits", "SCI")
    b = fits.getdata(tmp_path / "b" / "p.fits", "SCI")
    assert a.shape == b.shape and not np.array_equal(a, b)
    assert plain["ATODCORR"] == "OMIT"


@pytest.mark.parametrize("switch", ["atodcorr", "shadcorr"])
def test_a_dummy_table_skips_the_step(tmp_path, switch):
    _, header = _run(tmp_path, **{switch: "dummy"})
    assert header[switch.upper()] == "SKIPPED"


def test_a_dummy_atodtab_row_skips_atodcorr_and_leaves_the_data(tmp_path):
    _, header = _run(tmp_path / "a", atodcorr="rowdummy")
    assert header["ATODCORR"] == "SKIPPED"


def _imaging_header(**cards):
    h = fits.Header(
        {"OBSTYPE": "IMAGING", "IMPHTTAB": "oref$x_imp.fits", "PHOTCORR": "PERFORM", **cards}
    )
    return h


def test_the_ladder_gains_photcorr_for_imaging_that_asks_for_it_with_an_imphttab():
    names = [c.name for c in cfg.cumulative_sequence(_imaging_header())]
    assert names == ["RAW", *cfg.LADDER, "PHOTCORR"]
    photcorr = cfg.cumulative_sequence(_imaging_header())[-1]
    assert photcorr.added == "PHOTCORR" and photcorr.previous == "FLATCORR"
    assert "PHOTCORR" not in [
        c.name for c in cfg.cumulative_sequence(_imaging_header(IMPHTTAB="N/A"))
    ]
    assert "PHOTCORR" not in [
        c.name for c in cfg.cumulative_sequence(_imaging_header(PHOTCORR="OMIT"))
    ]
    spectrum = _imaging_header(OBSTYPE="SPECTROSCOPIC")
    assert "PHOTCORR" not in [c.name for c in cfg.cumulative_sequence(spectrum)]


def test_header_takes_the_raw_files_own_2d_switches():
    h = _imaging_header(
        DQICORR="PERFORM", ATODCORR="PERFORM", PHOTCORR="COMPLETE", X1DCORR="PERFORM"
    )
    (config,) = cfg.cumulative_sequence(h, ["HEADER"])
    switches = config.switch_dict
    assert switches["ATODCORR"] == "PERFORM" and switches["PHOTCORR"] == "COMPLETE"
    assert switches["X1DCORR"] == "OMIT" and switches["BLEVCORR"] == "OMIT"
    assert config.name == "HEADER" and config.added is None


def test_a_spectrums_photcorr_left_perform_is_not_a_step_that_did_not_run(tmp_path):
    path = tmp_path / "x_flt.fits"
    fits.PrimaryHDU(
        header=fits.Header({"OBSTYPE": "SPECTROSCOPIC", "PHOTCORR": "PERFORM"})
    ).writeto(path)
    problem, _ = check_products({"flt": path}, ("PHOTCORR",))
    assert problem == ""
    imaging = tmp_path / "y_flt.fits"
    fits.PrimaryHDU(header=fits.Header({"OBSTYPE": "IMAGING", "PHOTCORR": "PERFORM"})).writeto(
        imaging
    )
    problem, _ = check_products({"flt": imaging}, ("PHOTCORR",))
    assert "did not run" in problem
