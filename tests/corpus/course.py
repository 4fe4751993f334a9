"""Throw-away course directories for the autograde tests and the benchmark: the repo's
nbgrader_config.py and source/task8, the assignment generated, students submitted."""
import shutil
from pathlib import Path

from layers_lib.course import pipeline

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "task8"
MODULES, TESTS = "[1]task8_modules.ipynb", "[2]task8_test_modules.ipynb"
TIMESTAMP = "2026-11-20 12:00:00.000000 UTC\n"


def make_course(root, notebooks=(MODULES, TESTS)):
    """root/: nbgrader_config.py, source/task8 (only `notebooks`, plus any non-notebook file),
    and the assignment generated into release/ and the gradebook."""
    root = Path(root)
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for path in (ROOT / "source" / ASSIGNMENT).iterdir():
        if path.is_file() and (path.suffix != ".ipynb" or path.name in notebooks):
            shutil.copy(path, source / path.name)
    if pipeline.nbgrader(root, "generate_assignment", ASSIGNMENT, "--force") != 0:
        raise RuntimeError("generate_assignment failed:\n" + (root / "nbgrader.log").read_text()[-3000:])
    return root


def submit(root, student, files_dir, notebooks=(MODULES, TESTS)):
    """submitted/<student>/task8/: the `notebooks` found in files_dir and a timestamp."""
    target = Path(root) / "submitted" / student / ASSIGNMENT
    target.mkdir(parents=True)
    for name in notebooks:
        if (Path(files_dir) / name).exists():
            shutil.copy(Path(files_dir) / name, target / name)
    (target / "timestamp.txt").write_text(TIMESTAMP)
    return target


def gradebook_dump(root):
    """Everything autograde records, per student: {student: {"timestamp", "notebooks":
    {nb: {"late_penalty", "grades": {cell: (auto, manual, needs_manual, max)},
    "comments": {cell: (auto_comment, manual_comment)}}}}}."""
    from nbgrader.api import Gradebook
    dump = {}
    with Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT):
            dump[sub.student_id] = {
                "timestamp": sub.timestamp,
                "notebooks": {nb.name: {
                    "late_penalty": nb.late_submission_penalty,
                    "grades": {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade, g.max_score)
                               for g in nb.grades},
                    "comments": {c.name: (c.auto_comment, c.manual_comment) for c in nb.comments},
                } for nb in sub.notebooks}}
    return dump


ALL_NOTEBOOKS = ("[0]task8_train_model.ipynb", MODULES, TESTS)
DEMO_STUDENTS = sorted(p.name for p in (ROOT / "demo_submissions").iterdir() if p.is_dir())


def demo_course(root, notebooks=ALL_NOTEBOOKS):
    """A course with every demo student submitted (nothing graded yet)."""
    root = make_course(root, notebooks)
    for student in DEMO_STUDENTS:
        submit(root, student, ROOT / "demo_submissions" / student, notebooks)
    return root
