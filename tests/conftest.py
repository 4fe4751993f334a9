import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(autouse=True)
def _seeded_numpy():
    """Every test starts from the same global NumPy seed (the layers use np.random)."""
    np.random.seed(0)
    yield


@pytest.fixture(scope="session")
def serial_demo_course(tmp_path_factory):
    """The demo students autograded by plain `nbgrader autograde`: the reference every other way
    of grading (parallel, distributed) must match. Session-wide, so the tests of one xdist
    group share it."""
    from corpus.course import demo_course
    from layers_lib.course import pipeline
    root = demo_course(tmp_path_factory.mktemp("serial") / "course")
    assert pipeline.nbgrader(root, "autograde", "task8", "--force") == 0, (root / "nbgrader.log").read_text()[-3000:]
    return root


@pytest.fixture(scope="session")
def russian_advanced_derive_course(tmp_path_factory):
    """A whole course of the variant farthest from the default (Russian, advanced track, derive
    hints), made by `build --into` as an instructor would: shared by the build test and the
    autograde test (each test that changes it works on a copy)."""
    import subprocess
    course = tmp_path_factory.mktemp("variant") / "course"
    command = [sys.executable, "-m", "layers_lib.course.notebooks", "build", "--into", str(course),
               "--language", "ru", "--track", "advanced", "--hints", "derive"]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=course.parent)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return course
