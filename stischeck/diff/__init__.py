"""The comparator: every comparison in stischeck goes through `diff_products`.

STIS-aware: HDUs paired by (EXTNAME, EXTVER), null extensions expanded, DQ
compared bit by bit, NaN and infinities compared by position and class,
headers under their own policy, tolerances symmetric and written down.
"""

from stischeck.diff.policy import FORMULA, Policy, default_policy, load_policy
from stischeck.diff.products import diff_products
from stischeck.diff.result import DiffResult

__all__ = ["FORMULA", "DiffResult", "Policy", "default_policy", "diff_products", "load_policy"]
