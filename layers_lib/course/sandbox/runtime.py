"""The `layers_lib` tree a sandbox imports: never the repository (it holds the reference).

    kit:    the student runtime, exactly the files of the student kit wheel
    grader: the kit plus `layers_lib/course/hidden_checks.py` (the `[2]` kernel needs it)

Each tree is written once per content (a hash of its files) under the temporary directory,
owned by root and read-only for everyone else, and bound read-only into the sandbox, where it
is the first entry of PYTHONPATH. The editable install of the repository points at a directory
that does not exist in the sandbox, so `layers_lib.reference` cannot be imported there.
"""
import hashlib
import os
import tempfile

from .. import kit
from ..paths import ROOT

GRADER_EXTRAS = ("layers_lib/course/__init__.py", "layers_lib/course/hidden_checks.py",
                 "layers_lib/course/hidden_checks_advanced.py", "layers_lib/course/hidden_common.py",
                 "layers_lib/course/i18n_ru.py")


def _files(flavour):
    files = dict(kit.runtime_files())
    if flavour == "grader":
        files.update({name: ROOT / name for name in GRADER_EXTRAS})
    elif flavour != "kit":
        raise ValueError(f"unknown runtime {flavour!r} (kit or grader)")
    return files


def runtime_tree(flavour="kit", base=None):
    """The directory to put on PYTHONPATH for `flavour` ('kit' or 'grader'), built if needed."""
    files = _files(flavour)
    digest = hashlib.sha256()
    contents = {}
    for name in sorted(files):
        data = files[name].read_bytes()
        contents[name] = data
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    target = os.path.join(base or tempfile.gettempdir(),
                          f"task8-runtime-{flavour}-{digest.hexdigest()[:16]}")
    if os.path.isdir(target):
        return target
    staging = tempfile.mkdtemp(prefix=f"task8-runtime-{flavour}-", dir=base)
    for name, data in contents.items():
        path = os.path.join(staging, name)
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
    for directory, _, _ in os.walk(staging):
        os.chmod(directory, 0o755)
    try:
        os.rename(staging, target)              # atomic: parallel graders agree on one tree
    except OSError:
        import shutil
        shutil.rmtree(staging, ignore_errors=True)
    return target
