"""The eleven real STIS target acquisitions (tests/data/tastis) through ``stischeck reference``.

Found by experiment with cs0.e 3.5.0: with their own switches (all OMIT) cs0.e
opens the CCDTAB, writes nothing and exits 0; without the CCDTAB it exits 2
("One reference file was missing"), before saying no switch is PERFORM. The
live counterpart is tests/differential/test_real_files_live.py.
"""

import pytest

from stischeck.cli import main
from tests.support.realheaders import TASTIS, acq_oref

ACQ = sorted(TASTIS.glob("*_raw.fits"))


def test_the_eleven_real_acquisitions_are_kept_as_test_data():
    assert len(ACQ) == 11


@pytest.mark.parametrize("raw", ACQ, ids=[p.name[:9] for p in ACQ])
def test_an_acquisition_as_delivered_is_nothing_to_do_in_one_line(raw, tmp_path, capsys):
    oref = acq_oref(tmp_path / "oref")
    code = main(["reference", str(raw), "--outroot", f"{tmp_path}/out/", "--oref", str(oref)])
    out, err = capsys.readouterr()
    assert code == 0 and out == ""
    (line,) = err.splitlines()
    assert "nothing to do" in line and "OBSMODE = ACQ" in line and raw.name in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("raw", ACQ[:2], ids=[p.name[:9] for p in ACQ[:2]])
def test_an_acquisition_without_its_ccdtab_is_an_error_as_in_calstis(raw, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = main(
        ["reference", str(raw), "--outroot", f"{tmp_path}/o/", "--oref", f"{tmp_path}/empty"]
    )
    _, err = capsys.readouterr()
    assert code == 2
    (line,) = err.splitlines()
    assert "CCDTAB" in line and "_ccd.fits" in line and "Traceback" not in err
