"""The stistools wrapper audit shipped with stischeck (``stischeck.wrapper_audit``)."""

from stischeck.wrapper_audit.test_stistools_wrapper import *  # noqa: F403
