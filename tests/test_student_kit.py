"""The student kit, tested as a student gets it: the built wheel installed in a fresh virtual
environment, the repository nowhere on the path, the release notebooks run in a kernel of that
environment. Nothing of the reference solution or the hidden checks may be in it.

The fresh environment takes its third-party packages (torch, numpy, jupyter ...) from the course
environment through a `.pth` line: the test is about what the *kit* contains, and installing
torch again would only cost minutes. `layers_lib` itself comes from the wheel alone.
"""
import ast
import inspect
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from layers_lib.course import hidden_checks, hidden_checks_advanced, hidden_common, kit
from layers_lib.course.paths import DEMO_SUBMISSIONS, RELEASE
from layers_lib.reference import activations, conv, criteria, layers, optim

pytestmark = pytest.mark.slow
MODULES, TESTS, TRAIN = "[1]task8_modules.ipynb", "[2]task8_test_modules.ipynb", "[0]task8_train_model.ipynb"
REPO = Path(__file__).resolve().parents[1]

RUN_NOTEBOOK = """
import sys, nbformat
from nbclient import NotebookClient
path, out = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
               resources={"metadata": {"path": "."}}).execute()
nbformat.write(nb, out)
"""


@pytest.fixture(scope="session")
def student_env(tmp_path_factory):
    """A fresh venv with only the kit's wheel installed (no pip in it: the course pip installs)."""
    root = tmp_path_factory.mktemp("kit")
    wheel = kit.build(root / "dist")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "course-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", "--disable-pip-version-check", str(wheel)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JUPYTER", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return SimpleNamespace(python=python, wheel=wheel, root=root, env=env, site=Path(site))


def run(env, *args, cwd, timeout=600):
    assert not Path(cwd).resolve().is_relative_to(REPO)
    return subprocess.run([str(env.python), *map(str, args)], cwd=cwd, env=env.env, capture_output=True,
                          text=True, timeout=timeout)


def workdir(env, name, student):
    """A student's folder outside the repository: the release, with `student`'s notebooks."""
    folder = env.root / name
    shutil.copytree(RELEASE, folder)
    if student is not None:
        for path in (DEMO_SUBMISSIONS / student).glob("*.ipynb"):
            shutil.copy(path, folder / path.name)
    return folder


def execute(env, folder, notebook):
    out = folder / f"executed-{notebook}"
    proc = run(env, "-c", RUN_NOTEBOOK, notebook, out.name, cwd=folder)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return nbformat.read(out, as_version=4)


def graded_cells(nb):
    return {c.metadata.nbgrader["grade_id"]: c for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


def errors(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def test_the_kit_installs_alone_and_holds_no_instructor_package(student_env):
    probe = ("import layers_lib, importlib.util, json; print(json.dumps({'file': layers_lib.__file__, "
             "'reference': importlib.util.find_spec('layers_lib.reference') is not None, "
             "'course': importlib.util.find_spec('layers_lib.course') is not None}))")
    found = json.loads(run(student_env, "-c", probe, cwd=student_env.root).stdout)
    assert Path(found["file"]).is_relative_to(student_env.site)
    assert not found["reference"] and not found["course"]
    with zipfile.ZipFile(student_env.wheel) as zf:
        names = zf.namelist()
    assert not [n for n in names if n.startswith(("layers_lib/reference", "layers_lib/course"))]
    assert "layers_lib/grading/_worker.py" in names and "layers_lib/grading/visible_tests.py" in names


def _bodies(tree):
    """(qualified name, body without docstring) of every function in a module's AST."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            out.append((node.name, body))
    return out


def _kit_sources(wheel):
    with zipfile.ZipFile(wheel) as zf:
        return {n: zf.read(n).decode() for n in zf.namelist() if n.endswith(".py")}


SECRET_MODULES = (layers, activations, conv, criteria, optim, hidden_checks, hidden_checks_advanced,
                  hidden_common)
# The plumbing of the hidden checks (running scenarios, test data) is no secret: their scenarios are.
PLUMBING = {"random_data", "run_layer", "run_hidden_checks", "check_submission", "assert_class_passes",
            "check_hidden"}


def leaked_code(wheel):
    """(module, function, what) for every function of the reference and the hidden checks whose
    body is a function body of the kit, or one of whose statements (longer than a trivial
    `return self.output`) appears anywhere in the kit's code. Returns also the number checked."""
    sources = _kit_sources(wheel)
    kit_text = "\n".join(ast.unparse(ast.parse(src)) for src in sources.values())
    kit_bodies = {ast.unparse(body) for src in sources.values() for _, body in _bodies(ast.parse(src)) if body}
    leaks, checked = [], 0
    for module in SECRET_MODULES:
        for name, body in _bodies(ast.parse(inspect.getsource(module))):
            if not body or (module in (hidden_checks, hidden_common) and name in PLUMBING):
                continue
            checked += 1
            if len(ast.unparse(body)) >= 30 and ast.unparse(body) in kit_bodies:
                leaks.append((module.__name__, name, "the whole body"))
            for stmt in body:
                text = ast.unparse(stmt)
                if len(text) >= 30 and "\n" not in text and text in kit_text:
                    leaks.append((module.__name__, name, text))
    return leaks, checked


def test_the_kit_holds_none_of_the_reference_or_hidden_check_bodies(student_env):
    leaks, checked = leaked_code(student_env.wheel)
    assert checked > 60
    assert not leaks


def test_the_leak_check_finds_a_leak(tmp_path, monkeypatch):
    """The comparison above can fail: a kit that ships the reference's layers is caught."""
    files = kit.runtime_files()
    monkeypatch.setattr(kit, "runtime_files",
                        lambda: {**files, "layers_lib/grading/helpers.py": Path(layers.__file__)})
    monkeypatch.setattr(kit, "forbidden_imports", lambda name, source: [])
    leaks, _ = leaked_code(kit.build(tmp_path))
    assert {"update_grad_params", "update_output"} <= {name for _, name, _ in leaks}


def test_release_tests_notebook_passes_a_correct_solution(student_env):
    folder = workdir(student_env, "correct", "ada_complete")
    nb = execute(student_env, folder, TESTS)
    cells = graded_cells(nb)
    assert len(cells) == 15
    from nbgrader.utils import determine_grade
    for grade_id, cell in cells.items():
        assert not errors(cell), (grade_id, errors(cell))
        assert determine_grade(cell) == (cell.metadata.nbgrader["points"],) * 2, grade_id
    assert not [c for c in nb.cells if c.cell_type == "code" and errors(c)]


def test_release_tests_notebook_fails_every_class_of_the_blank_release_clearly(student_env):
    """Every graded cell scores 0 (its value, nbgrader's partial credit) and says that the class
    is not implemented yet; nothing fails to import."""
    from nbgrader.utils import determine_grade
    folder = workdir(student_env, "blank", None)
    nb = execute(student_env, folder, TESTS)
    cells = graded_cells(nb)
    assert len(cells) == 15
    for grade_id, cell in cells.items():
        assert determine_grade(cell) == (0, cell.metadata.nbgrader["points"]), grade_id
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert "not implemented yet" in text and "FAIL" in text, (grade_id, text[:500])
        assert not [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not [o for c in nb.cells for o in errors(c) if o.ename in ("ImportError", "ModuleNotFoundError")]


def test_release_training_notebook_runs_with_a_correct_solution(student_env):
    folder = workdir(student_env, "training", "ada_complete")
    nb = execute(student_env, folder, TRAIN)
    broken = [(c.get("id"), errors(c)) for c in nb.cells if c.cell_type == "code" and errors(c)]
    assert not broken
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 4
    assert set(graded_cells(nb)) == {"test_best_model_accuracy", "test_training_loss_decreases"}


def test_the_command_line_checker_works_from_the_kit(student_env):
    folder = workdir(student_env, "checker", "dan_transposed_and_dropout")
    proc = run(student_env, "-m", "layers_lib.grading", "check", MODULES, "--json", cwd=folder)
    assert proc.returncode == 1, proc.stderr
    layers_ = json.loads(proc.stdout)["layers"]
    assert {n for n, r in layers_.items() if not r["passed"]} == {"Linear", "Dropout"}
    good = workdir(student_env, "checker-good", "ada_complete")
    proc = run(student_env, "-m", "layers_lib.grading", "check", MODULES, cwd=good)
    assert proc.returncode == 0 and "15 of 15 classes pass; 23 of 23 points" in proc.stdout, proc.stdout + proc.stderr


def test_dashboard_and_inspector_work_from_the_kit(student_env):
    folder = workdir(student_env, "widgets", "dan_transposed_and_dropout")
    script = textwrap.dedent(f"""
        import json
        from layers_lib.grading.loader import load_submission
        from layers_lib.widgets import GradientInspector, dashboard
        ns = load_submission({MODULES!r}).namespace
        board = dashboard(ns)
        inspector = GradientInspector(ns["Linear"])
        print(json.dumps({{"passed": {{n: r is not None and r.passed for n, r in board.results.items()}},
                           "inspector_failing": [q for q, c in inspector.comparisons.items() if not c.ok]}}))
    """)
    proc = run(student_env, "-c", script, cwd=folder)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {n for n, ok in found["passed"].items() if not ok} == {"Linear", "Dropout"}
    assert "grad_W" in found["inspector_failing"]
