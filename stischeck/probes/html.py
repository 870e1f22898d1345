"""The probe table as a small self-contained HTML section (jinja2, autoescaped).

One ``<section>`` with its own style sheet, no script and no external
resource, so it can be opened alone (``probes.html``) or pasted into a report.
It follows the look of `stischeck.report.html`: the same colours, badges and
table style. Rows are build-major; each cell names the status and what was seen.
"""

from jinja2 import Environment, select_autoescape

__all__ = ["render_probes_html"]

#: Status -> badge colour class, from the report's palette.
_BADGE = {
    "fixed": "v-identical",
    "still present": "v-differ",
    "crashes": "v-error",
    "fails": "v-error",
    "could not run": "v-unknown",
}

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>stischeck probes</title>
<style>
body { margin:0; color:#1d1d1f; background:#fff;
  font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Helvetica, Arial, sans-serif; }
section.probes { max-width: 1360px; margin: 0 auto; padding: 18px 24px 40px; }
h2 { font-size: 18px; margin: 4px 0 8px; padding-top: 10px; border-top: 2px solid #d9dce1; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: #5f6368; } .small { font-size: 12.5px; }
.badge { display:inline-block; padding: 1px 8px; border-radius: 10px; color:#fff;
  font-size: 12px; font-weight: 600; letter-spacing: .02em; white-space: nowrap; }
.v-identical { background: #1e7d32; } .v-differ { background: #c62828; }
.v-error { background: #8e0000; } .v-unknown { background: #999; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 12px; width: 100%; }
th, td { border-bottom: 1px solid #d9dce1; padding: 3px 6px; text-align: left;
  vertical-align: top; }
th { background: #f5f6f8; font-weight: 600; }
td.probe, th.probe { min-width: 340px; max-width: 420px; overflow-wrap: anywhere; }
th.build { min-width: 150px; overflow-wrap: anywhere; }
.detail { overflow-wrap: anywhere; color: #444; }
</style></head><body>
<section class="probes" id="probes">
<h2>Known-issue probes</h2>
<p class="small muted">Each probe runs a seeded synthetic reproducer of one known calstis
issue through each build. <b>still present</b>: the issue's symptom is there;
<b>fixed</b>: the build does what a build without the issue does; <b>crashes</b>: killed by a
signal or hung, where the issue is not that crash; <b>fails</b>: a non-zero exit where products
were expected; <b>could not run</b>: the reason is given.</p>
<table>
<tr><th class="probe">probe, issue, what a build without it does</th>
{%- for build in builds %}<th class="build">{{ build }}</th>{% endfor %}</tr>
{%- for probe in probes %}
<tr><td class="probe"><b>{{ probe.name }}</b>: {{ probe.title }}<br>
<span class="small muted">{{ probe.issue }}</span><br>
<span class="small">expects: {{ probe.expects }}</span></td>
{%- for build in builds %}{% set r = cells.get((probe.name, build)) %}
<td>{% if r %}<span class="badge {{ badge[r.status] }}">{{ r.status }}</span><br>
<span class="small detail">{{ r.verdict.detail }}</span>{% else %}<span class="muted">—</span>
{%- endif %}</td>{% endfor %}</tr>
{%- endfor %}
</table>
</section></body></html>
"""


def render_probes_html(results: list) -> str:
    """
    The probe table of ``results`` (a list of `ProbeResult`) as one HTML page.

    Columns are the builds (their paths, in first-seen order), rows the probes.
    Every text is escaped (jinja2 autoescape).
    """
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    builds = list(dict.fromkeys(str(r.calstis) for r in results))
    probes = list({r.probe.name: r.probe for r in results}.values())
    cells = {(r.probe.name, str(r.calstis)): r for r in results}
    return env.from_string(_TEMPLATE).render(
        builds=builds, probes=probes, cells=cells, badge=_BADGE
    )
