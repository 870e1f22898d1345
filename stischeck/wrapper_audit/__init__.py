"""Audit of the stistools wrappers: the command lines they build against what the options mean.

``stistools.calstis.calstis``, ``stistools.basic2d.basic2d`` and
``stistools.ocrreject.ocrreject`` turn keyword arguments into a ``cs0.e`` /
``cs1.e`` / ``cs2.e`` command line and start it through ``subprocess.call``.
The audit runs each wrapper against a recording fake executable placed first
on PATH, reads the command line back, and interprets it the way hstcal's
argument parsing does (``pkg/stis/src/cs0.c``, ``cs1.c``, ``cs2_command.c``,
modelled in `stischeck.wrapper_audit.hstcal_args`), then compares that meaning
with the one the keyword arguments should give.

Run it from any suite with ``pytest --pyargs stischeck.wrapper_audit``; the
findings known for stistools 1.4 are strict xfails (a stistools fix turns one
into an XPASS failure, visibly) or explicit assertions of the documented
behaviour. `stischeck.wrapper_audit.cases.CASES` is the table.
"""
