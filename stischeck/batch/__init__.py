"""``stischeck batch``: many data sets' comparisons on Dask distributed, resumable.

Modules: ``inputs`` (raw files, folders, CSV manifests -> data sets),
``fingerprint`` (what a result depends on; ``batch.json``), ``engine`` (the
Dask run), ``task`` and ``child`` (one data set in an isolated process),
``aggregate`` and ``index`` (the batch's tables and ``index.html``).
Nothing heavy is imported here; ``from stischeck.batch.engine import run_batch``.
"""
