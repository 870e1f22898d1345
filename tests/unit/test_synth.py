"""stischeck.synth: geometry as calstis sees it, physics bookkeeping, determinism, CLI errors."""

import hashlib
import json

import numpy as np
import pytest
from astropy.io import fits

from reference_impl.geometry import find_overscan, placement_from_lt
from reference_impl.io.rawfile import read_raw
from reference_impl.pipeline import calibrate
from stischeck.cli import main
from stischeck.errors import UsageError
from stischeck.synth import SynthParams, build_dataset, validate, write_dataset
from stischeck.synth.detector import FULL_WELL_E, bleed_columns
from stischeck.synth.geometry import bin_to_raw, readout_geometry

BINNINGS = [(bx, by) for bx in (1, 2, 4) for by in (1, 2, 4) if (bx, by) != (1, 1)]
READOUTS = [(b, None) for b in [(1, 1), *BINNINGS]] + [((1, 1), (201, 40)), ((1, 1), (1, 4))]


@pytest.mark.parametrize("amp", "ABCD")
@pytest.mark.parametrize(("binning", "subarray"), READOUTS)
def test_geometry_trims_are_the_regions_calstis_hard_codes(amp, binning, subarray):
    g = readout_geometry(amp, binning, subarray)
    layout = find_overscan(amp, g.nx, g.ny, binning)
    assert not layout.too_small
    assert (layout.left, layout.right, layout.bottom, layout.top) == g.trim
    assert layout.bias_cols == g.bias_section
    if g.virtual_rows is not None:
        assert layout.virtual_rows == g.virtual_rows


@pytest.mark.parametrize(
    ("amp", "binning", "subarray", "ltv"),
    [  # the LTV values of the stored calstis corpus (its manifests)
        ("D", (1, 1), None, (19.0, 20.0)),
        ("D", (4, 4), None, (10.625, 10.375)),
        ("A", (2, 2), None, (9.75, 0.25)),
        ("C", (1, 1), (201, 40), (18.0, -200.0)),
        ("B", (1, 1), (500, 48), (18.0, -499.0)),
    ],
)
def test_geometry_ltv_matches_the_corpus_readouts(amp, binning, subarray, ltv):
    assert readout_geometry(amp, binning, subarray).ltv == ltv


@pytest.mark.parametrize("amp", "ABCD")
@pytest.mark.parametrize("binning", BINNINGS)
def test_trimmed_binned_frame_starts_at_the_detector_pixel_its_ltv_says(amp, binning):
    g = readout_geometry(amp, binning, None)
    left, _, bottom, _ = g.trim
    corner = placement_from_lt(*g.trimmed_ltv, *g.ltm)
    assert corner.x.corner == int(g.umap[left].min())
    assert corner.y.corner == int(g.vmap[bottom].min())


def test_binning_to_raw_keeps_every_electron_of_the_covered_area():
    g = readout_geometry("A", (4, 4), None)
    e = np.random.default_rng(1).uniform(0, 100, (1024, 1024))
    raw = bin_to_raw(e, g)
    covered = np.zeros((1024, 1024), bool)
    u = g.umap[g.umap >= 0]
    v = g.vmap[g.vmap >= 0]
    covered[np.ix_(np.unique(v), np.unique(u))] = True
    assert np.isclose(raw.sum(), e[covered].sum())
    assert raw[:, g.nx - 5 :].sum() == 0  # trailing serial overscan collects nothing


def test_bleeding_caps_pixels_at_the_full_well_and_keeps_the_charge():
    e = np.zeros((200, 5))
    e[100, 2] = 20 * FULL_WELL_E
    out = bleed_columns(e)
    assert out.max() <= FULL_WELL_E
    assert np.isclose(out.sum(), e.sum())
    column = out[:, 2]
    # 19 full pixels around the source and half a well at each end of the bleed
    assert np.count_nonzero(column == FULL_WELL_E) == 19 and np.count_nonzero(column) == 21
    np.testing.assert_array_equal(column[101:130], column[99:70:-1])  # symmetric about row 100
    assert (out[:, [0, 1, 3, 4]] == 0).all()


def test_same_seed_gives_the_same_bytes_and_another_seed_other_pixels(tmp_path):
    a = write_dataset(SynthParams(seed=11), tmp_path / "a")
    b = write_dataset(SynthParams(seed=11), tmp_path / "b")
    c = write_dataset(SynthParams(seed=12), tmp_path / "c")

    def digest(p):
        return hashlib.sha256(p.read_bytes()).hexdigest()

    assert digest(a.raw) == digest(b.raw)
    assert [digest(p) for p in a.references.values()] == [digest(p) for p in b.references.values()]
    with fits.open(a.raw) as x, fits.open(c.raw) as y:
        assert not np.array_equal(x["SCI", 1].data, y["SCI", 1].data)


def test_raw_file_has_the_layout_calstis_reads(tmp_path):
    p = SynthParams(seed=5, amp="B", gain=4, binning=(2, 2), subarray=None, crsplit=3, dropouts=2)
    paths = write_dataset(p, tmp_path)
    with fits.open(paths.raw) as hdul:
        h = hdul[0].header
        assert h["NEXTEND"] == 9 and h["CCDAMP"] == "B" and h["CCDGAIN"] == 4
        assert [h[s] for s in ("DQICORR", "BLEVCORR", "CRCORR", "FLATCORR", "ATODCORR")] == [
            "PERFORM", "PERFORM", "PERFORM", "PERFORM", "OMIT"
        ]  # fmt: skip
        assert hdul["SCI", 1].header["BITPIX"] == 16 and hdul["SCI", 1].header["BZERO"] == 32768
        assert hdul["ERR", 1].header["NAXIS"] == 0 and hdul["ERR", 1].header["BITPIX"] == -32
        sci = hdul["SCI", 1].header
        assert (sci["LTV1"], sci["LTV2"], sci["LTM1_1"]) == (10.75, 0.25, 0.5)
        assert "OCCDHTAV" in sci and sci["EXPTIME"] == pytest.approx(200.0)
    dq = [fits.getdata(paths.raw, ("DQ", k)) for k in (1, 2, 3) if
          fits.getheader(paths.raw, ("DQ", k))["NAXIS"] == 2]  # fmt: skip
    assert sum(int(np.count_nonzero(d == 2)) for d in dq) == 2 * 64
    manifest = json.loads(paths.manifest.read_text())
    assert manifest["params"]["seed"] == 5 and manifest["geometry"]["trim_left"] == 11
    for key in ("CCDTAB", "BPIXTAB", "CRREJTAB", "BIASFILE", "DARKFILE", "PFLTFILE", "DFLTFILE"):
        assert (tmp_path / manifest["reference_files"][key]).exists()


def test_reference_pipeline_runs_every_step_on_the_default_data_set(tmp_path):
    paths = write_dataset(SynthParams(seed=2, expscorr=True), tmp_path)
    result = calibrate(read_raw(paths.raw), oref_dir=paths.oref)
    assert [p.suffix for p in result.products] == ["crj", "flt"]
    for key in ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "DARKCORR", "FLATCORR"):
        assert result.products[0].primary_keywords.get(key, "COMPLETE") == "COMPLETE"


def test_saturated_sources_exceed_saturate_and_bleed_in_the_raw_data():
    ds = build_dataset(SynthParams(seed=4, gain=4, subarray=(400, 64), n_saturated=3))
    assert all(im.saturated_raw > 20 for im in ds.imsets)


def test_side1_data_have_no_occdhtav():
    ds = build_dataset(SynthParams(seed=4, expstart_mjd=51650.4, occdhtav_c=None))
    assert all(im.occdhtav is None for im in ds.imsets)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (dict(gain=2), "gain must be 1 or 4"),
        (dict(binning=(3, 1)), "binning must be 1, 2 or 4"),
        (dict(binning=(2, 2)), "binned readouts are full frame"),
        (dict(subarray=(1020, 20)), "must lie within detector rows"),
        (dict(obstype="SPECTROSCOPIC", aperture="50CCD"), "is not used for SPECTROSCOPIC"),
        (dict(crsplit=9), "crsplit must be 1..8"),
        (dict(exptime_s=0.0), "exposure time must be positive"),
        (dict(amp="E"), "amp must be one of"),
    ],
)
def test_invalid_parameters_are_one_line_usage_errors(change, words):
    with pytest.raises(UsageError, match=words):
        validate(SynthParams(**change))


@pytest.mark.parametrize(
    "argv",
    [
        ["--gain", "2"],
        ["--binning", "3"],
        ["--binning", "2x2", "--rows", "10:20"],
        ["--seed", "x"],
        ["--bogus"],
        ["--full-frame", "--rows", "10:20"],
    ],
)
def test_cli_bad_options_give_one_line_and_exit_2(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        code = main(["synth", "--out", str(tmp_path / "x"), *argv])
        raise SystemExit(code)
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("stischeck: synth: ")
    assert "Traceback" not in err


def test_cli_writes_a_data_set_and_refuses_to_overwrite_it(tmp_path, capsys):
    argv = ["synth", "--out", str(tmp_path), "--seed", "9", "--amp", "A", "--rows", "300:8"]
    assert main(argv) == 0
    out = capsys.readouterr().out.split()
    assert out[0].endswith("_raw.fits") and out[1].endswith("oref/")
    assert main(argv) == 2
    assert "already exists" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0
