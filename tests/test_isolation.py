"""IsolatedSubmission: the student's code runs in a worker process, the checks run here.

The reference classes pass every check through the worker; each cheat in tests/cheats/ (appended
to the reference solution) fails exactly the class it cheats in, with a clear message, and
leaves the grading process untouched; hangs, crashes and floods cost one class only.
"""
import builtins
import inspect
import os
import time
import unittest
from pathlib import Path

import numpy as np
import pytest

import layers_lib.reference as L
from layers_lib import contract
from layers_lib.grading.fixtures import Sine
from helpers import DEMO_FAILURES
from layers_lib.grading import compare as compare_module
from layers_lib.course.hidden_checks import assert_class_passes, check_submission
from layers_lib.grading.visible_tests import GRADED_NAMES
from layers_lib.grading.isolation import (ForeignValue, IsolatedSubmission, RemoteObject,
                                          StaleObjectError, WorkerCrashed, WorkerProtocolError,
                                          scan_submission)
from layers_lib.grading.loader import Piece, load_submission

ROOT = Path(__file__).resolve().parents[1]
CHEATS = Path(__file__).with_name("cheats")
DEMO = ROOT / "demo_submissions"


def grader_functions():
    return {"np.allclose": np.allclose, "np.isclose": np.isclose,
            "np.array_equal": np.array_equal,
            "np.testing.assert_allclose": np.testing.assert_allclose,
            "unittest.TestCase.assertTrue": unittest.TestCase.assertTrue,
            "unittest.TestCase.run": unittest.TestCase.run,
            "builtins.type": builtins.type, "builtins.isinstance": builtins.isinstance,
            "builtins.print": builtins.print, "builtins.float": builtins.float,
            "compare.compare": compare_module.compare}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """PyTorch's intra-op threads busy-wait after every (tiny) op and starve the worker process
    on a small machine: on 2 cores the full check of the reference takes ~20 s through the worker
    with torch's default threads and ~3.5 s with one (in one process: ~13 s and ~3 s)."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def reference_source():
    """The reference classes as a student's .py file (as tests/test_grading.py's reference_py)."""
    parts = ["import numpy as np"]
    for module in (contract, L.layers, L.activations, L.criteria, L.optim):
        source = inspect.getsource(module)
        parts.append("\n".join(line for line in source.splitlines()
                               if not line.startswith("from .")))
    return "\n\n".join(parts)


def submission(tmp_path, *extra, name="student.py"):
    """The reference solution with `extra` (cheat files or source text) appended."""
    texts = [reference_source()]
    for item in extra:
        texts.append((CHEATS / item).read_text() if item.endswith(".py") else item)
    path = tmp_path / name
    path.write_text("\n\n".join(texts) + "\n")
    return path


def failing(results):
    return {name for name, result in results.items() if not result.passed}


def message(results, name):
    return "\n".join(f["message"] for f in results[name].failures)


# --- the reference through the worker ---------------------------------------------------------

def test_reference_passes_every_check_through_the_worker(tmp_path):
    start = time.perf_counter()
    with IsolatedSubmission(submission(tmp_path)) as sub:
        loaded = time.perf_counter()
        results = check_submission(sub)
        end = time.perf_counter()
        assert not failing(results), {n: r.failures for n, r in results.items() if not r.passed}
        assert sub.errors == [] and sub.flags == [] and sub.restarts == 0
        assert set(GRADED_NAMES) <= set(sub.namespace)
        calls = sub.calls
    print(f"\nreference through the worker: load {loaded - start:.2f} s, checks {end - loaded:.2f} s, "
          f"{calls} calls")
    assert end - start < 60


def test_assert_class_passes_and_require_work_with_the_proxies(tmp_path):
    with IsolatedSubmission(submission(tmp_path, "returns_list.py")) as sub:
        assert_class_passes("Linear", sub)
        # the hidden checks' quantity "output (float32, ...)" names update_output's return value
        with pytest.raises(AssertionError, match="update_output returned a list — build it with numpy"):
            assert_class_passes("LeakyReLU", sub)
        assert sub.require("Linear") is sub.namespace["Linear"]
        with pytest.raises(AssertionError, match="Nope is not defined"):
            sub.require("Nope")


# --- cheats: exactly the cheated class fails ---------------------------------------------------

CASES = [
    # (cheat file, failing classes, message substring, options)
    ("numpy_allclose.py", {"ReLU"}, "elements differ", {}),
    ("unittest_patch.py", {"SoftPlus"}, "elements differ", {}),
    ("builtins_patch.py", {"ELU"}, "update_output returned a str", {}),
    ("compare_patch.py", {"Linear"}, "Linear imports layers_lib", {}),
    ("eq_override.py", {"SoftMax"}, "returned a submission.AlwaysEqual — expected a numpy.ndarray", {}),
    ("array_function.py", {"LogSoftMax"}, "returned a submission.Sneaky — expected a numpy.ndarray", {}),
    ("returns_list.py", {"LeakyReLU"}, "update_output returned a list", {}),
    ("ndarray_subclass.py", {"Dropout"}, "AlwaysClose (a subclass of np.ndarray)", {}),
    ("lazy_object.py", {"NLLCriterion"}, "returned a submission.LazyLoss, expected a float", {}),
    ("torch_compute.py", {"SoftPlus"}, "SoftPlus imports torch: the layers must be written with NumPy", {}),
    ("torch_toplevel.py", {"ELU"}, "ELU uses F, which comes from torch", {}),
    ("import_layers_lib.py", {"ReLU"}, "comes from layers_lib", {}),
    ("infinite_loop.py", {"Linear"}, "Linear.forward did not return within 2 s (infinite loop?)",
     {"call_timeout": 2}),
    ("toplevel_hang.py", {"ReLU"}, "did not finish within 2 s (infinite loop at the top level?)",
     {"call_timeout": 2}),
    ("memory_bomb.py", {"ReLU"}, "MemoryError: Unable to allocate 50.0 GiB", {}),
    ("os_exit.py", {"ReLU"}, "the worker process died (exit code 0) while running ReLU.backward", {}),
    ("segfault.py", {"LeakyReLU"}, "died (killed by SIGSEGV) while running LeakyReLU.forward", {}),
    ("huge_output.py", {"SoftMax"}, "to stdout/stderr (limit 16 MB)", {}),
    ("system_exit.py", {"ELU"}, "ELU raised SystemExit: exit() or sys.exit() was called in ELU.forward", {}),
    ("optimizer_not_in_place.py", {"sgd_momentum"}, "updated in place?", {}),
]


def test_every_cheat_file_has_a_case():
    assert {c[0] for c in CASES} == {p.name for p in CHEATS.glob("*.py")}


@pytest.mark.slow
@pytest.mark.parametrize("cheat, expected, text, options", CASES, ids=[c[0][:-3] for c in CASES])
def test_a_cheat_fails_exactly_its_class(tmp_path, capfd, cheat, expected, text, options):
    before = grader_functions()
    with IsolatedSubmission(submission(tmp_path, cheat), **options) as sub:
        results = check_submission(sub)
        assert failing(results) == expected, {n: r.failures for n, r in results.items()
                                              if not r.passed}
        for name in expected:
            assert text in message(results, name), message(results, name)
        restarts = sub.restarts
    assert grader_functions() == before                      # nothing leaked into this process
    out, err = capfd.readouterr()
    assert out == "" and err == "", (out[:300], err[:300])   # nor onto its stdout/stderr
    killing = {"infinite_loop.py", "toplevel_hang.py", "os_exit.py", "segfault.py"}
    assert restarts == (1 if cheat in killing else 0)


def test_the_import_block_fails_a_class_at_run_time_too(tmp_path):
    """With fail_flagged=False the flagged class is graded, and importing torch in the worker
    raises ImportError."""
    with IsolatedSubmission(submission(tmp_path, "torch_compute.py"), fail_flagged=False) as sub:
        assert sub.flagged_reason("SoftPlus") == ("SoftPlus imports torch: the layers must be "
                                                  "written with NumPy")
        results = check_submission(sub, ["SoftPlus", "ReLU"])
        assert failing(results) == {"SoftPlus"}
        assert ("SoftPlus raised ImportError: importing torch is not allowed in the submission"
                in message(results, "SoftPlus"))


def test_layers_lib_stays_unreachable_after_fixture_modules_were_sent(tmp_path):
    probe = '''
def probe(name):
    try:
        __import__(name)
    except ImportError as exc:
        return str(exc)
    return "imported"


def loaded_modules():
    import sys
    return sorted(k for k in sys.modules if k.split(".")[0] in ("layers_lib", "torch"))
'''
    with IsolatedSubmission(submission(tmp_path, probe), fail_flagged=False) as sub:
        model = sub.namespace["Sequential"]()
        model.add(Sine(np.ones(3)))                  # unpickles layers_lib.grading.fixtures privately
        assert type(model.modules[0]).__qualname__ == "Sine"
        assert model.forward(np.ones((1, 3))).shape == (1, 3)
        assert sub.namespace["loaded_modules"]() == []
        with pytest.raises(Exception, match="may not send objects of layers_lib.reference"):
            model.add(L.Linear(3, 2))                # the reference is never loaded in the worker
        assert sub.namespace["loaded_modules"]() == []
        for name in ("layers_lib", "layers_lib.grading.compare", "torch"):
            assert "is not allowed in the submission" in sub.namespace["probe"](name)
        assert "numpy" not in sub.namespace["probe"]("numpy")


# --- loading ------------------------------------------------------------------------------------

@pytest.mark.parametrize("student, expected", sorted(DEMO_FAILURES.items()))
def test_demo_submissions_fail_exactly_their_bugs_in_the_worker(student, expected):
    path = DEMO / student / "[1]task8_modules.ipynb"
    with IsolatedSubmission(path) as sub:
        results = check_submission(sub)
        assert failing(results) == expected
        assert sub.errors == load_submission(path).errors
        assert sub.summary() == load_submission(path).summary()
    if student == "eve_unstable_softmax":
        # the worker's numeric warnings are re-raised here, so the diagnosis is the same
        text = message(results, "SoftMax")
        assert "overflow" in text or "unstable" in text


def test_a_piece_that_kills_the_worker_while_loading_costs_only_its_names(tmp_path):
    crash = "import os\n\n\nclass ELU(Module):\n    os._exit(3)\n"
    with IsolatedSubmission(submission(tmp_path, crash)) as sub:
        assert "ELU" not in sub.namespace and "ReLU" in sub.namespace
        assert "died (exit code 3)" in sub.failure_reason("ELU")
        results = check_submission(sub, ["ELU", "ReLU"])
        assert failing(results) == {"ELU"}


# --- proxies ------------------------------------------------------------------------------------

def test_proxies_forward_attributes_methods_and_class_attributes(tmp_path):
    with IsolatedSubmission(submission(tmp_path)) as sub:
        Linear, BN = sub.namespace["Linear"], sub.namespace["BatchNormalization"]
        assert isinstance(Linear, type) and BN.EPS == L.BatchNormalization.EPS
        layer = Linear(3, 4)
        assert isinstance(layer, Linear) and isinstance(layer, RemoteObject)
        layer.W = np.arange(12, dtype=np.float32).reshape(3, 4)
        layer.b = np.zeros(4, np.float32)
        x = np.ones((2, 3), np.float32)
        out = layer.forward(x)
        assert type(out) is np.ndarray and out.dtype == np.float32
        np.testing.assert_array_equal(out, x @ layer.W)
        assert type(layer.get_grad_params()) is list
        with pytest.raises(AttributeError):
            layer.no_such_attribute
        assert getattr(layer, "no_such_attribute", None) is None
        assert not hasattr(layer, "__array__") and not hasattr(layer, "__array_function__")
        assert layer == layer and layer != Linear(3, 4)           # identity only
        # a criterion's float32 loss stays an np.float32 (its tolerance depends on it)
        loss = sub.namespace["NLLCriterion"]().forward(
            np.log(np.full((2, 3), 1 / 3, np.float32)), np.eye(3, dtype=np.float32)[:2])
        assert type(loss) is np.float32
        # an argument returned as it is comes back as the caller's own object
        dropout = sub.namespace["Dropout"](0.5)
        dropout.evaluate()
        assert dropout.forward(x) is x
        # student objects inside student objects come back as (the same) proxies
        model = sub.namespace["Sequential"]()
        relu = sub.namespace["ReLU"]()
        model.add(relu)
        model.add(Sine(np.ones(2)))                  # a fixture module sent by the grader
        assert model.modules[0] is relu and model.modules[0] is model.modules[0]
        assert type(model.modules[1]).__module__ == "layers_lib.grading.fixtures"
        model.evaluate()
        assert [m.training for m in model.modules] == [False, False]


def test_student_exceptions_keep_their_type_message_and_line(tmp_path):
    with IsolatedSubmission(submission(tmp_path)) as sub:
        layer = sub.namespace["Linear"](3, 4)
        with pytest.raises(ValueError, match=r"expects input of shape \(batch, 3\)") as info:
            layer.forward(np.ones((2, 5)))
        last = info.traceback[-1]
        assert last.name == "_check" and "student.py lines" in str(last.path)
        with pytest.raises(TypeError):
            sub.namespace["Linear"]()
    weird = "class Weird(Exception):\n    pass\n\n\ndef boom():\n    raise Weird('custom')\n"
    with IsolatedSubmission(submission(tmp_path, weird, name="weird.py")) as sub:
        with pytest.raises(Exception, match="custom") as info:
            sub.namespace["boom"]()
        assert type(info.value).__name__ == "Weird" and type(info.value).student_module == "submission"


def test_optimizers_update_in_place_and_keep_their_state(tmp_path):
    with IsolatedSubmission(submission(tmp_path)) as sub:
        for name, config in (("sgd_momentum", {"learning_rate": 0.1, "momentum": 0.9}),
                             ("adam_optimizer", {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.9,
                                                 "epsilon": 1e-6})):
            rng = np.random.default_rng(1)
            ours = [[rng.normal(size=(3, 2)), rng.normal(size=2)], [], [rng.normal(size=4)]]
            theirs = [[a.copy() for a in group] for group in ours]
            arrays = [a for group in ours for a in group]
            state, reference_state = {}, {}
            for _ in range(4):
                grads = [[rng.normal(size=a.shape) for a in group] for group in ours]
                sub.namespace[name](ours, grads, dict(config), state)
                getattr(L, name)(theirs, grads, dict(config), reference_state)
            assert all(x is y for x, y in zip([a for group in ours for a in group], arrays))
            for got, want in zip(arrays, [a for group in theirs for a in group]):
                np.testing.assert_allclose(got, want, rtol=1e-12)
            assert set(state) == set(reference_state) and state  # the buffers are visible here


def test_foreign_values_stay_in_the_worker_and_can_be_sent_back(tmp_path):
    holder = "class Holder:\n    def make(self):\n        return (x for x in range(3))\n"
    with IsolatedSubmission(submission(tmp_path, holder, name="holder.py")) as sub:
        h = sub.namespace["Holder"]()
        gen = h.make()
        assert isinstance(gen, ForeignValue) and gen.type_name == "builtins.generator"
        h.kept = gen
        assert h.kept is gen
        with pytest.raises(TypeError, match="by reference only"):
            h.kept = type(gen)          # never pickled by name (that would import its module)
        assert np.asarray(gen).dtype == object                # inert: nothing is called


def test_results_are_deterministic_and_follow_the_grader_seed(tmp_path):
    path = submission(tmp_path)
    masks = []
    for seed in (0, 0, 1):
        with IsolatedSubmission(path) as sub:
            layer = sub.namespace["Dropout"](0.5)
            np.random.seed(seed)
            masks.append(layer.forward(np.ones((20, 20))) != 0)
    assert (masks[0] == masks[1]).all() and not (masks[0] == masks[2]).all()


def test_student_output_is_captured_not_leaked(tmp_path, capfd):
    noisy = ("import sys, warnings\nprint('loading!')\n\n\ndef shout():\n"
             "    print('to stdout')\n    print('to stderr', file=sys.stderr)\n"
             "    warnings.warn('careful')\n    return 1\n")
    with IsolatedSubmission(submission(tmp_path, noisy, name="noisy.py")) as sub:
        assert sub.namespace["shout"]() == 1
        text = sub.output
        assert "loading!" in text and "to stdout" in text and "to stderr" in text
        assert sub.worker_warnings == ["UserWarning: careful"]     # recorded, not printed
    assert capfd.readouterr() == ("", "")


def test_a_restart_makes_old_objects_stale_and_new_ones_work(tmp_path):
    crash = "import os\n\n\ndef die():\n    os._exit(5)\n"
    with IsolatedSubmission(submission(tmp_path, crash)) as sub:
        old = sub.namespace["ReLU"]()
        with pytest.raises(WorkerCrashed, match=r"exit code 5\) while running die"):
            sub.namespace["die"]()
        with pytest.raises(StaleObjectError, match="restarted"):
            old.forward(np.ones((1, 2)))
        new = sub.namespace["ReLU"]()
        np.testing.assert_array_equal(new.forward(np.array([[-1.0, 2.0]])), [[0.0, 2.0]])
        assert sub.restarts == 1


def test_a_forged_reply_with_an_object_array_is_rejected(tmp_path):
    """Student code writes its own reply on the worker's channel: the restricted decoder refuses
    an object dtype (which would run code on unpickling or comparison)."""
    forge = '''
import json, os, struct


class SoftPlus(Module):
    def update_output(self, input):
        head = json.dumps({"value": {"t": "nd", "d": "|O", "s": [2, 4], "o": 0, "n": 64},
                           "changed": [], "warnings": []}).encode()
        body = struct.pack(">I", len(head)) + head + b"\\0" * (-(4 + len(head)) % 16) + b"\\0" * 64
        frame = struct.pack(">Q", len(body)) + body
        for fd in range(3, 32):
            try:
                os.write(fd, frame)
            except OSError:
                pass
        while True:
            pass
'''
    with IsolatedSubmission(submission(tmp_path, forge), call_timeout=5) as sub:
        results = check_submission(sub, ["SoftPlus", "ReLU"])
        assert failing(results) == {"SoftPlus"}
        assert "invalid reply" in message(results, "SoftPlus")
        assert "dtype |O not allowed" in message(results, "SoftPlus")
    with pytest.raises(WorkerProtocolError):
        raise WorkerProtocolError("it is an AssertionError too")


# --- static scan ----------------------------------------------------------------------------------

def scan(*sources):
    return scan_submission([Piece(f"cell {i + 1}", s) for i, s in enumerate(sources)])[1]


def test_the_static_scan_flags_what_uses_torch_layers_lib_or_dynamic_imports():
    reasons = scan(
        "import numpy as np\nimport torch.nn.functional as F\n",
        "def helper(x):\n    return F.relu(x)\n",
        "class ReLU:\n    def forward(self, x):\n        return helper(x)\n",
        "class ELU:\n    def forward(self, x):\n        return __import__('tor' + 'ch').exp(x)\n",
        "class SoftPlus:\n    def forward(self, x):\n        import importlib\n        return x\n",
        "class Clean:\n    '''Same as torch.nn.Softplus, written with NumPy.'''\n"
        "    def forward(self, x):\n        return np.log1p(np.exp(x))\n",
        "class Patched:\n    pass\n",
        "def sneaky(self, x):\n    return x\n",
        "from torch import autograd\nPatched.forward = autograd.grad\n",
        "from layers_lib import Linear\n",
        "class Sub(Clean):\n    pass\n",
    )
    assert reasons["helper"] == ("helper uses F, which comes from torch (cell 1): the layers must "
                                 "be written with NumPy")
    assert reasons["ReLU"].startswith("ReLU uses helper; helper uses F")
    assert reasons["ELU"] == "ELU calls __import__: dynamic imports are not allowed in the submission"
    assert reasons["SoftPlus"].startswith("SoftPlus uses importlib")
    assert "torch.autograd" in reasons["Patched"] or "torch" in reasons["Patched"]
    assert reasons["Linear"].startswith("Linear comes from layers_lib")
    assert "Clean" not in reasons and "Sub" not in reasons and "sneaky" not in reasons


def test_flags_are_reported_by_the_submission(tmp_path):
    with IsolatedSubmission(submission(tmp_path, "torch_compute.py")) as sub:
        assert "SoftPlus" not in sub.namespace
        assert sub.failure_reason("SoftPlus") == sub.flagged_reason("SoftPlus")
        assert sub.flags == ["SoftPlus imports torch: the layers must be written with NumPy"]
        assert "Flagged by the static scan" in sub.summary()
        assert sub.flagged_reason("ReLU") is None


def test_closing_kills_the_worker(tmp_path):
    sub = IsolatedSubmission(submission(tmp_path))
    pid = sub._res.proc.pid
    sub.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_worker_module_is_not_reachable_through_main(tmp_path):
    probe = "def probe():\n    import __main__\n    return sorted(n for n in vars(__main__) if not n.startswith('__'))\n"
    with IsolatedSubmission(submission(tmp_path, probe)) as sub:
        assert sub.namespace["probe"]() == []


def test_a_stub_says_which_method_is_not_implemented(tmp_path):
    path = tmp_path / "stub.py"
    path.write_text("class Module:\n    def forward(self, x):\n        return self.update_output(x)\n\n\n"
                    "class ReLU(Module):\n    def update_output(self, input):\n"
                    "        raise NotImplementedError()\n")
    with IsolatedSubmission(path) as sub:
        with pytest.raises(NotImplementedError, match=r"ReLU.forward: update_output is not implemented yet"):
            sub.namespace["ReLU"]().forward(np.ones((1, 2)))
