"""The repository layout, in one place (the course directory is the repository root)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "task8"
SOURCE = ROOT / "source" / ASSIGNMENT
RELEASE = ROOT / "release" / ASSIGNMENT
DEMO_SUBMISSIONS = ROOT / "demo_submissions"
DIST = ROOT / "dist"

TRAIN_NOTEBOOK = "[0]task8_train_model.ipynb"
MODULES_NOTEBOOK = "[1]task8_modules.ipynb"
TESTS_NOTEBOOK = "[2]task8_test_modules.ipynb"
