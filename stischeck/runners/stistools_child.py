"""Child process of the stistools runner: call ``stistools.calstis.calstis`` once, report as JSON.

Run as a script (``python stistools_child.py REPORT RAW OUTROOT TRAILER``), not
imported by stischeck: stistools is imported here only, so its import cost is
paid in this process, which the parent can time out and kill with its process
group (cs0.e, started by the wrapper, is in the same group).

The wrapper is called exactly as a user calls it,
``calstis(RAW, outroot=OUTROOT, trailer=TRAILER)``. ``subprocess.call`` inside
``stistools.calstis`` is observed, not changed: a pass-through records the
command line the wrapper built and the real exit status of ``cs0.e`` (the
wrapper folds every failure, a signal included, into its return value 1).

REPORT gets ``{"returned": int or null, "exception": str or null,
"import_s": float, "calls": [{"argv": [...], "status": int}]}``.
"""

import json
import sys
import time
import traceback
import warnings
from pathlib import Path


def main(argv: list) -> int:
    """Run the wrapper on one file and write the report; 0 once the report is written."""
    report_path, raw, outroot, trailer = argv
    report = dict(returned=None, exception=None, import_s=None, calls=[])
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # stsci.tools warns about its own deprecated modules on import.
            warnings.simplefilter("ignore")
            from stistools import calstis as wrapper_module
        report["import_s"] = time.perf_counter() - t0
        original = wrapper_module.subprocess.call

        def observed_call(args, *a, **kw):
            status = original(args, *a, **kw)
            report["calls"].append(dict(argv=[str(x) for x in args], status=status))
            return status

        wrapper_module.subprocess.call = observed_call
        try:
            report["returned"] = wrapper_module.calstis(raw, outroot=outroot, trailer=trailer)
        finally:
            wrapper_module.subprocess.call = original
    except BaseException as err:  # noqa: BLE001 - every failure of the wrapper is reported
        report["exception"] = f"{type(err).__name__}: {' '.join(str(err).split())}"
        traceback.print_exc()
    Path(report_path).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
