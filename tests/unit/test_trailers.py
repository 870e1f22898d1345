"""Trailer normalisation, step split and per-step diff, on hand-made and real corpus trailers."""

import gzip
from pathlib import Path

import pytest

from stischeck.cli import main
from stischeck.errors import InputFileError
from stischeck.trailers import (
    diff_trailers,
    format_diff,
    normalise_line,
    parse_trailer,
    read_trailer,
    split_steps,
)

CASE = "img_ampD_g1_full_cr2"

SMALL = """git tag: 3.2.0-6-g5c1c1775
git branch: main
HEAD @: 5c1c17759397d0c2ee41275bc0254b44277c8b9b

*** CALSTIS-0 -- Version 3.5.0 (02-Feb-2026) ***
Begin    24-Nov-2026 09:14:03 UTC
Input    .work/o1_raw.fits
Outroot  FLATCORR/o1_raw.fits

*** CALSTIS-1 -- Version 3.5.0 (02-Feb-2026) ***
Begin    24-Nov-2026 09:14:03 UTC
Input    .work/o1_raw.fits
Output   FLATCORR/o1_blv_tmp.fits

Imset 1  Begin 09:14:03 UTC
Warning    EPCTAB `o1j_epc.fits' not found.
DQICORR  PERFORM
DQITAB   oref$m0x3uysso_bpx.fits
DQICORR  COMPLETE

BLEVCORR PERFORM
         Bias level from overscan has been subtracted;
         mean of bias levels subtracted was 1341.66.
BLEVCORR COMPLETE
         Uncertainty array initialized, readnoise=5.62, gain=1
DARKCORR OMIT
Imset 1  End 09:14:03 UTC

Imset 2  Begin 09:14:04 UTC
BLEVCORR PERFORM
         mean of bias levels subtracted was 1341.2.
BLEVCORR COMPLETE
Imset 2  End 09:14:04 UTC

*** CALSTIS-1 complete ***

*** CALSTIS-1 -- Version 3.5.0 (02-Feb-2026) ***
Imset 1  Begin 09:14:05 UTC
DARKCORR PERFORM
         Dark reference image was scaled by the factor 1.0945,
DARKCORR COMPLETE
Imset 1  End 09:14:05 UTC
"""


def elsewhere(text: str) -> str:
    """The same run at another time, in other folders, by another build of the same code."""
    return (
        text.replace("24-Nov-2026", "07-Dec-2027")
        .replace("09:14:0", "23:59:5")
        .replace(".work/", "/tmp/pytest-of-root/pytest-9/run0/")
        .replace("FLATCORR/", "out/")
        .replace("Version 3.5.0 (02-Feb-2026)", "Version 3.6.0 (01-Jan-2027)")
        .replace("5c1c1775", "deadbeef")
    )


# ---------------------------------------------------------------- normalisation rules


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Begin    24-Nov-2026 09:14:03 UTC", "Begin <date> <time>"),
        ("End      26-Jul-2017 21:09:17 EDT", "End <date> <time>"),
        ("Imset 1  Begin 09:14:03 UTC", "Imset 1 Begin <time>"),
        ("git tag: 3.2.0-6-g5c1c1775", "<build info>"),
        ("HEAD @: 5c1c17759397d0c2ee41275bc0254b44277c8b9b", "<build info>"),
        (
            "*** CALSTIS-2 -- Version 3.5.0 (02-Feb-2026) ***",
            "*** CALSTIS-2 -- Version <version> ***",
        ),
        ("Input    /tmp/a/b/FLATCORR/ovappx010_raw.fits", "Input ovappx010_raw.fits"),
        (
            "sky of 'CRCORR/o1_blv_tmp.fits[sci,2]' is 21.562 DN",
            "sky of 'o1_blv_tmp.fits[sci,2]' is 21.562 DN",
        ),
        ("CCDTAB   oref$71q0l7joo_ccd.fits", "CCDTAB oref$71q0l7joo_ccd.fits"),
        ("Outroot  FLATCORR/o1_raw.fits", "Outroot <outroot>"),
        ("Outroot  out/", "Outroot <outroot>"),
        (
            "         mean of bias levels subtracted was 1341.66.   ",
            "mean of bias levels subtracted was 1341.66.",
        ),
    ],
)
def test_normalise_line_applies_each_documented_rule(line, expected):
    assert normalise_line(line, names=()) == expected


def test_normalise_line_hides_host_and_user_names():
    names = (("stisbox", "<host>"), ("jdoe", "<user>"))
    assert normalise_line("Input /home/jdoe/x_raw.fits on stisbox", names=names) == (
        "Input x_raw.fits on <host>"
    )
    assert normalise_line("Warning stisboxes", names=names) == "Warning stisboxes"


def test_normalise_line_keeps_numbers_that_are_not_times():
    assert normalise_line("readnoise=5.62, gain=1", names=()) == "readnoise=5.62, gain=1"


# ---------------------------------------------------------------- step split


def test_split_steps_attributes_lines_to_module_imset_and_step():
    steps = split_steps(SMALL.splitlines())
    assert steps[("CALSTIS-1", "BLEVCORR")] == [
        "imset 1: BLEVCORR PERFORM",
        "imset 1: Bias level from overscan has been subtracted;",
        "imset 1: mean of bias levels subtracted was 1341.66.",
        "imset 1: BLEVCORR COMPLETE",
        "imset 2: BLEVCORR PERFORM",
        "imset 2: mean of bias levels subtracted was 1341.2.",
        "imset 2: BLEVCORR COMPLETE",
    ]
    # After COMPLETE a line is the module's own, not the step's.
    general = steps[("CALSTIS-1", "(general)")]
    assert "imset 1: Uncertainty array initialized, readnoise=5.62, gain=1" in general
    assert "imset 1: Warning EPCTAB `o1j_epc.fits' not found." in general
    # The second calstis1 run (after the rejection) is its own module section.
    assert ("CALSTIS-1 (2)", "DARKCORR") in steps
    assert steps[("CALSTIS-1", "DARKCORR")] == ["imset 1: DARKCORR OMIT"]


def test_parse_trailer_keeps_the_versions_aside():
    t = parse_trailer(SMALL)
    assert t.versions[0] == "calstis 3.5.0 (02-Feb-2026)"
    assert "git tag: 3.2.0-6-g5c1c1775" in t.versions


# ---------------------------------------------------------------- diff


def test_the_same_run_elsewhere_and_later_is_the_same():
    diff = diff_trailers(parse_trailer(SMALL), parse_trailer(elsewhere(SMALL)))
    assert diff.same, format_diff(diff)
    assert "3.6.0" in format_diff(diff)  # versions are printed, not counted


def test_a_changed_number_is_reported_in_its_step_only():
    b = SMALL.replace("1341.2.", "1341.18.")
    diff = diff_trailers(parse_trailer(SMALL), parse_trailer(b))
    assert [s.name for s in diff.steps] == ["CALSTIS-1 BLEVCORR"]
    (change,) = diff.steps[0].changes
    assert change.kind == "changed numbers"
    assert change.a.endswith("1341.2.") and change.b.endswith("1341.18.")
    assert "1341.2 -> 1341.18" in format_diff(diff)


def test_new_warnings_and_vanished_messages_are_told_apart():
    b = SMALL.replace(
        "DARKCORR COMPLETE", "Warning  dark scale factor out of range\nDARKCORR COMPLETE"
    ).replace("         Bias level from overscan has been subtracted;\n", "")
    diff = diff_trailers(parse_trailer(SMALL), parse_trailer(b))
    kinds = {(s.name, c.kind) for s in diff.steps for c in s.changes}
    assert kinds == {
        ("CALSTIS-1 BLEVCORR", "vanished message"),
        ("CALSTIS-1 (2) DARKCORR", "new warning"),
    }


def test_a_step_only_on_one_side_is_all_new():
    b = SMALL.replace("DARKCORR OMIT\n", "DARKCORR OMIT\nFLATCORR PERFORM\nERROR    no flat\n")
    diff = diff_trailers(parse_trailer(SMALL), parse_trailer(b))
    (step,) = diff.steps
    assert step.name == "CALSTIS-1 FLATCORR"
    assert [c.kind for c in step.changes] == ["new message", "new error"]


# ---------------------------------------------------------------- real corpus trailers


def corpus_trailer(corpus_dir, step):
    return next((corpus_dir / CASE / step).glob("*.trl.gz"))


@pytest.mark.corpus
def test_corpus_trailer_splits_into_its_modules_and_steps(corpus_dir):
    t = read_trailer(corpus_trailer(corpus_dir, "FLATCORR"))
    keys = set(t.steps)
    for key in [("CALSTIS-1", "BLEVCORR"), ("CALSTIS-2", "CRCORR"), ("CALSTIS-1 (2)", "FLATCORR")]:
        assert key in keys
    assert any("mean of bias levels subtracted" in x for x in t.steps[("CALSTIS-1", "BLEVCORR")])
    assert t.versions[0] == "calstis 3.5.0 (02-Feb-2026)"


@pytest.mark.corpus
def test_corpus_trailer_rewritten_elsewhere_is_the_same(corpus_dir, tmp_path):
    src = corpus_trailer(corpus_dir, "FLATCORR")
    text = gzip.decompress(src.read_bytes()).decode()
    moved = tmp_path / "moved.trl"
    moved.write_text(elsewhere(text))
    assert text != moved.read_text()
    assert diff_trailers(read_trailer(src), read_trailer(moved)).same


@pytest.mark.corpus
def test_two_rungs_of_the_ladder_differ_where_the_added_step_ran(corpus_dir):
    a = read_trailer(corpus_trailer(corpus_dir, "BIASCORR"))
    b = read_trailer(corpus_trailer(corpus_dir, "CRCORR"))
    diff = diff_trailers(a, b)
    names = {s.name for s in diff.steps}
    assert "CALSTIS-2 CRCORR" in names  # the rejection ran only in B
    assert "CALSTIS-1 DQICORR" not in names and "CALSTIS-1 BLEVCORR" not in names


# ---------------------------------------------------------------- command


def test_trailers_command_exit_codes(tmp_path, capsys):
    a = tmp_path / "a.trl"
    a.write_text(SMALL)
    same = tmp_path / "same.trl.gz"
    same.write_bytes(gzip.compress(elsewhere(SMALL).encode()))
    other = tmp_path / "other.trl"
    other.write_text(SMALL.replace("1341.66", "1341.62"))
    assert main(["trailers", str(a), str(same)]) == 0
    assert "same after normalisation" in capsys.readouterr().out
    assert main(["trailers", str(a), str(other)]) == 1
    out = capsys.readouterr().out
    assert "CALSTIS-1 BLEVCORR:" in out and "1341.66 -> 1341.62" in out


@pytest.mark.parametrize("content", [None, b"SIMPLE  =                    T", b"\x1f\x8bnot gzip"])
def test_trailers_command_cannot_read(content, tmp_path, capsys):
    a = tmp_path / "a.trl"
    a.write_text(SMALL)
    bad = tmp_path / "bad.trl"
    if content is not None:
        bad.write_bytes(content)
    assert main(["trailers", str(a), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.trl" in err


def test_read_trailer_raises_input_file_error(tmp_path):
    with pytest.raises(InputFileError, match="cannot read the trailer"):
        read_trailer(Path(tmp_path / "missing.trl"))
