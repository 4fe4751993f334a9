"""The layout shows the three audiences, and the dependencies go one way: the student runtime
never imports the reference solution or the course tooling."""
import ast
import json
import subprocess
import sys
from pathlib import Path

from layers_lib.course import kit

PACKAGE = Path(kit.PACKAGE)
LONG_FILE = 420          # "no file over ~400 lines without a reason stated at its top"


def runtime_modules():
    names = []
    for name in kit.runtime_files():
        if name.endswith(".py") and not name.endswith(("__main__.py", "_worker.py")):
            names.append(name[:-3].replace("/", ".").removesuffix(".__init__"))
    return names


def test_the_three_audiences_are_three_places():
    assert (PACKAGE / "reference" / "__init__.py").exists() and (PACKAGE / "course" / "__init__.py").exists()
    assert {"layers_lib.contract", "layers_lib.grading.runner", "layers_lib.widgets"} <= set(runtime_modules())
    assert not [m for m in runtime_modules() if m.startswith(("layers_lib.reference", "layers_lib.course"))]


def test_importing_the_student_runtime_loads_no_reference_and_no_course_module():
    script = ("import importlib, json, sys\n"
              f"for name in {runtime_modules()!r}:\n"
              "    importlib.import_module(name)\n"
              "print(json.dumps(sorted(m for m in sys.modules if m.startswith('layers_lib'))))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    assert "layers_lib.widgets.dashboard" in loaded
    assert not [m for m in loaded if m.startswith(("layers_lib.reference", "layers_lib.course"))]


def test_no_runtime_file_imports_instructor_code_even_lazily():
    """Function-local imports count too (the sys.modules test only sees what ran)."""
    for name, path in kit.runtime_files().items():
        if name.endswith(".py"):
            assert kit.forbidden_imports(name, path.read_text()) == [], name


def test_the_import_scan_sees_relative_and_absolute_imports():
    assert kit.forbidden_imports("layers_lib/grading/x.py", "from ..reference import Linear\n")
    assert kit.forbidden_imports("layers_lib/x.py", "from .course import hidden_checks\n")
    assert kit.forbidden_imports("layers_lib/x.py", "def f():\n    import layers_lib.reference.layers\n")
    assert not kit.forbidden_imports("layers_lib/grading/x.py", "from ..contract import Module\n")


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts
                  and "content" not in p.parts)   # content/: bilingual cell texts, not modules


def test_no_private_name_is_imported_across_modules():
    bad = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("layers_lib")):
                bad += [f"{path.relative_to(PACKAGE)}: {a.name}" for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
    assert not bad


def test_long_files_say_why_at_their_top():
    for path in _modules():
        lines = path.read_text().splitlines()
        if len(lines) > LONG_FILE:
            head = "\n".join(lines[:40]).lower()
            assert "why this file is long" in head, f"{path.relative_to(PACKAGE)}: {len(lines)} lines"
