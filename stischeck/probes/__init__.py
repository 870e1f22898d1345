"""Known-issue probes: a seeded synthetic reproducer per known calstis 2-D CCD issue.

`run_probes` runs each probe of `PROBES` against each cs0.e build and gives
per build *still present*, *fixed*, *crashes*, *fails* (a clean refusal where
products were expected) or *could not run* (with the reason). The probes and
the issues they cite are listed in `stischeck.probes.catalog`.
"""

from stischeck.probes.catalog import PROBES, probe_names, select
from stischeck.probes.model import (
    COULD_NOT_RUN,
    CRASHES,
    FAILS,
    FIXED,
    STATUSES,
    STILL_PRESENT,
    Probe,
    ProbeInput,
    ProbeResult,
    RunFacts,
    Verdict,
)
from stischeck.probes.run import judge, run_probe, run_probes, table_text, write_csv

__all__ = [
    "COULD_NOT_RUN",
    "CRASHES",
    "FAILS",
    "FIXED",
    "PROBES",
    "STATUSES",
    "STILL_PRESENT",
    "Probe",
    "ProbeInput",
    "ProbeResult",
    "RunFacts",
    "Verdict",
    "judge",
    "probe_names",
    "run_probe",
    "run_probes",
    "select",
    "table_text",
    "write_csv",
]
