"""The batch's index.html: failures first, every text from the tables escaped, one file."""

import json

from stischeck.batch.index import write_index

HOSTILE = 'a<script>alert("x")</script> & b'


def _row(dataset, **kw):
    row = dict(dataset=dataset, status="done", verdict="agree", first_divergent="", worst="")
    row.update(max_n_differ=0, max_ulp=0, max_abs_diff=0.0, wall_s=1.25, reused=False)
    row.update(report="", message="")
    row.update(kw)
    return row


def _summary(rows):
    return dict(
        n_datasets=len(rows),
        counts={"agree": 1, "differ": 1, "could not run": 1},
        n_reused=1,
        exit_code=2,
        wall_s=12.34,
        cluster="a local cluster of <2> workers",
        stischeck="0.1.0",
        finished="2026-01-01T00:00:00+0000",
    )


def test_the_index_puts_failures_first_and_escapes_every_text(tmp_path):
    rows = [
        _row("agrees", reused=True, report="agrees/report.html"),
        _row("differs", verdict="differ", first_divergent="BLEVCORR", worst=HOSTILE, max_ulp=7),
        _row("broken", status="failed", verdict="", message=HOSTILE, wall_s=float("nan")),
    ]
    (tmp_path / "differs").mkdir()
    (tmp_path / "differs" / "summary.json").write_text(
        json.dumps(
            dict(
                primary_comparison="reference-vs-calstis",
                configurations={"DQICORR": {"reference-vs-calstis": "identical"},
                                "BLEVCORR": {"reference-vs-calstis": "differ"}},
            )
        )
    )  # fmt: skip
    page = write_index(tmp_path, rows, _summary(rows)).read_text()
    assert "<script" not in page and "http" not in page
    assert page.count("a&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; b") == 2
    assert "a local cluster of &lt;2&gt; workers" in page
    assert page.index(">broken<") < page.index(">differs<") < page.index(">agrees<")
    assert '<a href="agrees/report.html">agrees</a> <span class="reused">(reused)</span>' in page
    assert '<a href="differs/summary.txt">differs</a>' in page
    assert '<td class="why msg">a&lt;script' in page  # a failed data set: no link, its message
    assert '<span class="cfg v v-differ" title="differ">BLEVCORR</span>' in page
    assert '<td class="num">7</td>' in page and "12.3 s" in page
    assert "1 could not run, 1 differ, 1 agree; 1 reused" in page
