"""The graded checks: correct solutions always pass, classic bugs fail with the right message,
the loader isolates broken pieces, and the command-line checker."""
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import layers_lib.reference as L
from helpers import DEMO_FAILURES
from layers_lib import contract
from layers_lib.course.hidden_checks import check_submission, run_hidden_checks
from layers_lib.grading.visible_tests import GRADED_NAMES
from layers_lib.grading.loader import load_submission

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo_submissions"


def reference_py(path):
    """The reference classes as a student's .py file."""
    parts = ["import numpy as np"]
    for module in (contract, L.layers, L.activations, L.criteria, L.optim):
        source = inspect.getsource(module)
        parts.append("\n".join(line for line in source.splitlines()
                               if not line.startswith("from .")))
    path.write_text("\n\n".join(parts))
    return path


@pytest.mark.parametrize("seed", range(5))
def test_reference_and_float32_naive_solutions_pass_for_any_seed(seed):
    import naive_float32_solution as naive
    for namespace in ({n: getattr(L, n) for n in dir(L)}, vars(naive)):
        for name in GRADED_NAMES:
            result = run_hidden_checks(name, namespace, include_visible=True, seed=seed)
            assert result.passed, (name, result.failures)


@pytest.mark.parametrize("student, failing", sorted(DEMO_FAILURES.items()))
def test_demo_submissions_fail_exactly_their_bugs(student, failing):
    results = check_submission(load_submission(DEMO / student / "[1]task8_modules.ipynb"))
    assert {n for n, r in results.items() if not r.passed} == failing


def test_failure_messages_name_the_bug():
    results = check_submission(load_submission(DEMO / "dan_transposed_and_dropout" / "[1]task8_modules.ipynb"),
                               ["Linear", "Dropout"])
    assert "grad_W" in results["Linear"].failures[0]["message"]
    assert "transposed" in results["Linear"].failures[0]["message"]
    assert "not rescaled by 1/(1-p)" in results["Dropout"].failures[0]["message"]
    eve = check_submission(load_submission(DEMO / "eve_unstable_softmax" / "[1]task8_modules.ipynb"),
                           ["SoftMax"])["SoftMax"]
    assert "overflow" in eve.failures[0]["message"] or "unstable" in eve.failures[0]["message"]


def test_loader_isolates_a_broken_cell_and_says_why():
    loaded = load_submission(DEMO / "fay_syntax_error" / "[1]task8_modules.ipynb")
    assert "ELU" not in loaded.namespace and "SoftPlus" in loaded.namespace
    assert "SyntaxError" in loaded.failure_reason("ELU")
    with pytest.raises(AssertionError, match="ELU failed to load"):
        loaded.require("ELU")


def test_loader_on_a_py_file_with_a_syntax_error(tmp_path):
    path = reference_py(tmp_path / "mine.py")
    text = path.read_text().replace("class ReLU(Module):", "class ReLU(Module)")
    path.write_text(text)
    loaded = load_submission(path)
    assert "ReLU" not in loaded.namespace and "Linear" in loaded.namespace
    assert "SyntaxError" in loaded.failure_reason("ReLU")


def run_checker(*args):
    return subprocess.run([sys.executable, "-m", "layers_lib.grading", "check", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def test_checker_on_a_py_file_and_json(tmp_path):
    proc = run_checker(reference_py(tmp_path / "layers.py"), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    layers = json.loads(proc.stdout)["layers"]
    assert set(layers) == set(GRADED_NAMES) and all(v["passed"] for v in layers.values())


def test_checker_on_a_notebook_reports_failures_and_exit_codes(tmp_path):
    proc = run_checker(DEMO / "dan_transposed_and_dropout" / "[1]task8_modules.ipynb", "--json")
    assert proc.returncode == 1
    layers = json.loads(proc.stdout)["layers"]
    assert not layers["Linear"]["passed"] and layers["ReLU"]["passed"]
    assert {"quantity", "message"} <= set(layers["Linear"]["failures"][0])
    text = run_checker(DEMO / "ben_blank" / "[1]task8_modules.ipynb")
    assert text.returncode == 1 and "Linear" in text.stdout and "FAIL" in text.stdout
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    assert run_checker(bad).returncode == 2
    assert run_checker(tmp_path / "missing.ipynb").returncode == 2


@pytest.mark.parametrize("n", [1, 7, 200, 10000])
@pytest.mark.parametrize("p", [0.01, 0.3, 0.5, 0.8, 0.99])
def test_the_binomial_interval_is_scipys(n, p):
    """The dropout checks count dropped elements against this interval without importing scipy
    in the grading kernel; it must be scipy's exactly."""
    from scipy import stats
    from layers_lib.grading.testkit import binomial_interval
    for confidence in (1 - 1e-6, 0.95, 0.5):
        assert binomial_interval(confidence, n, p) == tuple(stats.binom.interval(confidence, n, p))
