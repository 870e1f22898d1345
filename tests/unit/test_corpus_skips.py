"""Without a corpus, the tests parametrized over its steps skip with the corpus reason."""

import os
import subprocess
import sys
from pathlib import Path

from stischeck.pytest_plugin import CORPUS_SKIP_REASON
from tests.support.corpus import step_params

ROOT = Path(__file__).resolve().parents[2]


def test_step_params_without_a_corpus_is_one_parameter_skipped_with_the_corpus_reason():
    (param,) = step_params(None)
    (mark,) = param.marks
    assert mark.name == "skip" and mark.kwargs["reason"] == CORPUS_SKIP_REASON


def test_corpus_step_tests_skip_with_the_corpus_reason_without_a_corpus(tmp_path):
    empty = tmp_path / "no-corpus"
    empty.mkdir()
    env = dict(os.environ, STISCHECK_CORPUS=str(empty))
    env.pop("STISCHECK_CALSTIS", None)
    files = ["tests/regression/test_corpus_reference.py", "tests/unit/test_product_writer.py"]
    argv = [sys.executable, "-m", "pytest", "-q", "-rs", "-m", "corpus", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [*argv, *files], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "empty parameter set" not in out
    assert out.count(CORPUS_SKIP_REASON) >= 4, out
