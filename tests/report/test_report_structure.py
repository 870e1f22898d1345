"""The report's code stays small and its page escapes whatever the folder holds."""

import ast
from pathlib import Path

from astropy.io import fits

import stischeck.report
from stischeck.cli import main
from tests.report.conftest import ROOT, make_tiny_folder

REPORT_PACKAGE = Path(stischeck.report.__file__).parent
MAX_FUNCTION_LINES = 80
HOSTILE = 'A<script>alert("x")</script> & B'


def test_no_report_function_is_over_80_lines():
    long = []
    for path in sorted(REPORT_PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "report functions over 80 lines: " + ", ".join(long)


def test_a_hostile_keyword_value_and_trailer_come_out_escaped(tmp_path, capsys):
    folder = make_tiny_folder(tmp_path / "hostile")
    products = sorted((folder / "runs" / "BLEVCORR").rglob(f"{ROOT}_flt.fits"))
    assert products
    for path in products:
        with fits.open(path, mode="update") as hdus:
            hdus[0].header["PHOTMODE"] = HOSTILE
            hdus[0].header["PHOTFLAM"] = 1.0e-18  # the photometry table shows when present
    trailers = [
        folder / "runs" / "BLEVCORR" / s for s in ("calstis/cs0.trl", "reference/reference.log")
    ]
    for trailer in trailers:
        trailer.write_text(f"{HOSTILE}\n")
    assert main(["report", str(folder)]) == 0, capsys.readouterr().err
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page
    escaped = "A&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; B"
    legacy = "A&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; B"
    # the keyword in the photometry table, and both trailers
    assert page.count(escaped) + page.count(legacy) >= 1 + len(trailers)
    assert page.count(escaped) >= len(trailers)  # the trailers: through the jinja2 templates
