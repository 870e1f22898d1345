"""PHOTCORR rules (hstcal dophot.c, photmode.c, lib/getphttab.c, interp1d.c)."""

import numpy as np
import pytest
from astropy.io import fits

from reference_impl.errors import NotImplementedStepError
from reference_impl.io.phottables import ImphttabFailure, read_imphttab, read_tdstab_row
from reference_impl.steps import photcorr as pc


def test_photmode_names_mirror_and_gain_and_mjd_with_four_decimals():
    assert (
        pc.photmode_string(
            aperture="F28X50LP",
            ccdgain=4,
            opt_elem="MIRVIS",
            obstype="IMAGING",
            cenwave=None,
            expstart_mjd=52091.123456,
        )  # fmt: skip
        == "STIS F28X50LP A2D4 MIRROR CCD MJD#52091.1235"
    )


def test_photmode_of_a_spectrum_has_the_grating_and_a_positive_cenwave_only():
    kw = dict(aperture="52X2", ccdgain=1, opt_elem="G430L", expstart_mjd=58500.25)
    assert pc.photmode_string(obstype="SPECTROSCOPIC", cenwave=4300, **kw) == (
        "STIS 52X2 A2D1 G430L CCD 4300 MJD#58500.2500"
    )
    assert "4300" not in pc.photmode_string(obstype="SPECTROSCOPIC", cenwave=-1, **kw)
    assert "4300" not in pc.photmode_string(obstype="IMAGING", cenwave=4300, **kw)


@pytest.mark.parametrize(
    ("photmode", "expected"),
    [
        ("STIS 50CCD A2D1 MIRROR CCD MJD#1.0", ("STIS 50CCD MIRROR CCD MJD#1.0", True)),
        ("A2D4 STIS CCD", ("STIS CCD", True)),
        ("STIS CCD A2D4", ("STIS CCD", True)),
        ("STIS a2d1 CCD", ("STIS CCD", True)),
        ("STIS 50CCD MIRROR", ("STIS 50CCD MIRROR", False)),
    ],
)
def test_remove_a2d_cuts_the_part_and_one_blank(photmode, expected):
    assert pc.remove_a2d(photmode) == expected


def test_obsmode_is_lower_case_with_commas():
    assert pc.phot_to_obs("STIS 50CCD MIRROR CCD MJD#58500.2500") == (
        "stis,50ccd,mirror,ccd,mjd#58500.2500"
    )


def test_parse_obsmode_splits_the_parameter_off():
    parsed = pc.parse_obsmode("stis,50ccd,mirror,ccd,mjd#58500.2500")
    assert parsed.obsmode == "stis,50ccd,mirror,ccd,mjd#"
    assert parsed.parnames == ("mjd#",) and parsed.parvalues == (58500.25,)


def test_parse_obsmode_without_parameters_keeps_one_empty_name():
    parsed = pc.parse_obsmode("stis,50ccd,mirror,ccd")
    assert parsed == pc.ParsedObsmode("stis,50ccd,mirror,ccd", ("",), (0.0,))


def test_obsmodes_match_ignores_order_and_case_but_needs_equal_length():
    assert pc.obsmodes_match("STIS,CCD,MIRROR,50CCD,MJD#", "stis,50ccd,mirror,ccd,mjd#")
    assert not pc.obsmodes_match("stis,50ccd,mirror,ccd", "stis,50ccd,mirror,ccd,mjd#")
    # Parts are looked up as substrings, as CompareObsModes does with strstr.
    assert pc.obsmodes_match("stis,50ccd,mirror,cd,mjd#,", "stis,50ccd,mirror,ccd,mjd#")


def _row(grid, values):
    return pc.PhotRow("m", nelem=(len(grid),), parnames=("mjd#",), parvals=(tuple(grid),),
                      results=tuple(values))  # fmt: skip


def _obs(mjd):
    return pc.ParsedObsmode("m", ("mjd#",), (mjd,))


def test_interpolation_is_linear_between_grid_points():
    row = _row([50000.0, 51000.0, 53000.0], [1.0, 2.0, 6.0])
    assert pc.interpolate_parameterised(row, _obs(50500.0), extrap=False) == 1.5
    assert pc.interpolate_parameterised(row, _obs(52000.0), extrap=False) == 4.0
    assert pc.interpolate_parameterised(row, _obs(53000.0), extrap=False) == 6.0


def test_a_parameter_outside_the_table_gives_minus_9999_unless_mjd_may_extrapolate():
    row = _row([50000.0, 51000.0], [1.0, 2.0])
    assert pc.interpolate_parameterised(row, _obs(52000.0), extrap=False) == -9999.0
    assert pc.interpolate_parameterised(row, _obs(52000.0), extrap=True) == 3.0
    assert pc.interpolate_parameterised(row, _obs(49000.0), extrap=True) == 0.0


def test_a_parameter_the_obsmode_lacks_gives_zero():
    row = pc.PhotRow("m", nelem=(2,), parnames=("fr388n#",), parvals=((1.0, 2.0),),
                     results=(1.0, 2.0))  # fmt: skip
    assert pc.interpolate_parameterised(row, _obs(1.5), extrap=False) == 0.0


def test_two_parameters_interpolate_first_axis_first():
    # results[i + 2 j] = f(x_i, y_j) with f = x + 10 y: exact under bilinear interpolation.
    xs, ys = (0.0, 1.0), (0.0, 2.0)
    results = tuple(x + 10 * y for y in ys for x in xs)
    row = pc.PhotRow("m", nelem=(2, 2), parnames=("a#", "b#"), parvals=(xs, ys), results=results)
    obs = pc.ParsedObsmode("m", ("a#", "b#"), (0.25, 1.5))
    assert pc.interpolate_parameterised(row, obs, extrap=False) == 0.25 + 15.0


def test_interp1d_holds_the_end_values():
    wl, f = (1000.0, 2000.0, 4000.0), (1.0, 3.0, 7.0)
    assert pc.interp1d(500.0, wl, f) == 1.0 and pc.interp1d(5000.0, wl, f) == 7.0
    assert pc.interp1d(3000.0, wl, f) == 5.0 and pc.interp1d(1500.0, wl, f) == 2.0


def test_temperature_factor_is_one_below_zero_degrees():
    tds = pc.TdsRow((1000.0, 9000.0), (0.01, 0.01), 18.0)
    assert pc.temperature_factor(tds, 5000.0, -1.0) == 1.0
    assert pc.temperature_factor(tds, 5000.0, 20.0) == pytest.approx(1.02)


def _table(rows_by_quantity, **kw):
    return pc.PhotTable(photzpt=-21.1, extrap=False, extensions=rows_by_quantity, **kw)


def _scalar_table(flam=2e-19, plam=5800.0, bw=1300.0):
    mode = "stis,50ccd,mirror,ccd,mjd#"
    return _table(
        {
            "PHOTFLAM": [pc.PhotRow(mode, results=(flam,))],
            "PHOTPLAM": [pc.PhotRow(mode, results=(plam,))],
            "PHOTBW": [pc.PhotRow(mode, results=(bw,))],
        }
    )


PHOTMODE = "STIS 50CCD A2D4 MIRROR CCD MJD#58500.2500"


def test_photflam_is_multiplied_by_atodgain_and_divided_by_the_temperature_factor():
    tds = pc.TdsRow((1000.0, 9000.0), (0.01, 0.01), 18.0)
    out = pc.compute_photometry(_scalar_table(), PHOTMODE, atodgain=4.0, tds=tds, temperature_c=20)
    assert not out.skipped
    assert out.keywords["PHOTFLAM"] == np.float32(2e-19 * 4.0 / (1.0 + 0.01 * 2.0))
    assert out.keywords["PHOTPLAM"] == np.float32(5800.0)
    assert out.keywords["PHOTZPT"] == np.float32(-21.1)


def test_without_a2d_in_photmode_photflam_is_not_multiplied():
    out = pc.compute_photometry(
        _scalar_table(), "STIS 50CCD MIRROR CCD MJD#1.0", atodgain=4.0, tds=None, temperature_c=20
    )
    assert out.keywords["PHOTFLAM"] == np.float32(2e-19)


def test_no_matching_row_skips_without_keywords():
    out = pc.compute_photometry(
        _scalar_table(), PHOTMODE.replace("50CCD", "F28X50LP"), atodgain=1.0, tds=None,
        temperature_c=-1.0,
    )  # fmt: skip
    assert out.skipped and out.keywords == {}


def test_values_outside_the_table_skip_but_keep_the_minus_9999_keywords():
    out = pc.compute_photometry(
        _scalar_table(-9999.0, -9999.0, -9999.0), PHOTMODE, atodgain=4.0, tds=None,
        temperature_c=-1.0,
    )  # fmt: skip
    assert out.skipped and out.keywords["PHOTFLAM"] == np.float32(-9999.0)


def test_a_matching_row_calstis_reads_outside_its_arrays_is_not_implemented():
    table = _table({"PHOTFLAM": [pc.PhotRow("stis,50ccd,mirror,ccd,mjd#", unsupported="why")]})
    with pytest.raises(NotImplementedStepError, match="why"):
        pc.compute_photometry(table, PHOTMODE, atodgain=1.0, tds=None, temperature_c=-1.0)


def _write_imphttab(path, *, primary=None, columns=None):
    hdr = fits.Header({"NEXTEND": 3, "PHOTZPT": -21.1, "PARNUM": 1, **(primary or {})})
    hdus = [fits.PrimaryHDU(header=hdr)]
    for name in ("PHOTFLAM", "PHOTPLAM", "PHOTBW"):
        cols = columns or [
            fits.Column("OBSMODE", "30A", array=["stis,50ccd,mirror,ccd,mjd#"]),
            fits.Column("DATACOL", "12A", array=[name + "1"]),
            fits.Column(name, "D", array=[0.0]),
            fits.Column("NELEM1", "J", array=[2]),
            fits.Column("PAR1NAMES", "8A", array=["mjd#"]),
            fits.Column("PAR1VALUES", "3D", array=[[50000.0, 60000.0, 0.0]]),
            fits.Column(name + "1", "3D", array=[[1.0, 2.0, 0.0]]),
        ]
        t = fits.BinTableHDU.from_columns(cols)
        t.header["EXTNAME"] = name
        hdus.append(t)
    fits.HDUList(hdus).writeto(path)
    return path


def test_read_imphttab_reads_the_parameterised_rows(tmp_path):
    table = read_imphttab(_write_imphttab(tmp_path / "x_imp.fits"))
    row = table.extensions["PHOTPLAM"][0]
    assert row.nelem == (2,) and row.parvals == ((50000.0, 60000.0),)
    assert row.results == (1.0, 2.0) and table.photzpt == -21.1 and table.extrap is False
    obs = pc.parse_obsmode("stis,50ccd,mirror,ccd,mjd#55000")
    assert pc.imphttab_value(table.extensions["PHOTBW"], obs, extrap=False) == 1.5


def test_read_imphttab_without_parnum_is_a_failed_look_up(tmp_path):
    path = _write_imphttab(tmp_path / "x_imp.fits")
    with fits.open(path, mode="update") as h:
        del h[0].header["PARNUM"]
    assert isinstance(read_imphttab(path), ImphttabFailure)


def test_read_imphttab_with_a_missing_result_column_is_a_failed_look_up(tmp_path):
    cols = [
        fits.Column("OBSMODE", "30A", array=["stis,50ccd,mirror,ccd,mjd#"]),
        fits.Column("DATACOL", "12A", array=["X"]),
    ]
    out = read_imphttab(_write_imphttab(tmp_path / "x_imp.fits", columns=cols))
    assert isinstance(out, ImphttabFailure) and "PHOTFLAM1" in out


def test_read_tdstab_takes_the_last_row_of_the_element_and_needs_one(tmp_path):
    cols = [
        fits.Column("OPT_ELEM", "8A", array=["MIRVIS", "G430L", "MIRVIS"]),
        fits.Column("NWL", "J", array=[2, 2, 2]),
        fits.Column("WAVELENGTH", "2D", array=[[1.0, 2.0]] * 3),
        fits.Column("REFTEMP", "D", array=[18.0, 17.0, 16.0]),
        fits.Column("TEMPSENS", "2D", array=[[0.1, 0.2]] * 3),
    ]
    path = tmp_path / "x_tds.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)
    assert read_tdstab_row(path, "MIRVIS").ref_temp == 16.0
    with pytest.raises(Exception, match="no TDSTAB row"):
        read_tdstab_row(path, "MIRNUV")


def test_a_dummy_tdstab_row_stops_as_calstis_does(tmp_path):
    # cs0.e exits 2 ("Internal error; status = -1", gettds1.c returns DUMMY as a status).
    cols = [
        fits.Column("OPT_ELEM", "8A", array=["MIRVIS"]),
        fits.Column("NWL", "J", array=[1]),
        fits.Column("WAVELENGTH", "1D", array=[[1.0]]),
        fits.Column("PEDIGREE", "8A", array=["DUMMY"]),
    ]
    path = tmp_path / "x_tds.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)
    with pytest.raises(Exception, match="PEDIGREE DUMMY"):
        read_tdstab_row(path, "MIRVIS")
