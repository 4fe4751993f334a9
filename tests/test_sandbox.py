"""The autograde sandbox (layers_lib/course/sandbox/), piece by piece: what code inside it can
and cannot reach. The whole-run attacks are in test_sandbox_attacks.py."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from layers_lib.course.paths import ROOT
from layers_lib.course.sandbox import (Scratch, SandboxPolicy, SubmissionFileError, checked_notebooks,
                                       sandbox_account)
from layers_lib.course.sandbox.files import check_directory, read_checked
from layers_lib.course.sandbox.runtime import runtime_tree
from layers_lib.course.sandbox.worker import SandboxedWorker, dataset_directories

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox tests run as root (CI)")


@pytest.fixture(scope="module")
def account():
    return sandbox_account()


@pytest.fixture
def run_inside(account):
    """Run Python code in a sandbox with the grader's runtime tree; returns (rc, stdout, stderr)."""
    scratches = []

    def run(code, flavour="kit", **policy):
        scratch = Scratch(account)
        scratches.append(scratch)
        tree = runtime_tree(flavour)
        cmd = SandboxPolicy(account, readonly=[tree], **policy).command(
            [sys.executable, "-c", textwrap.dedent(code)], scratch, env={"PYTHONPATH": tree})
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr

    yield run
    for scratch in scratches:
        scratch.cleanup()


def test_the_account_is_unprivileged(account):
    assert account.privileged and account.uid != 0 and account.gid != 0


def test_inside_the_sandbox_code_runs_as_the_account_with_no_network(run_inside, account):
    rc, out, err = run_inside("""
        import json, os, socket
        result = {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "pid": os.getpid()}
        try:
            socket.create_connection(("127.0.0.1", 22), timeout=2)
            result["net"] = "connected"
        except OSError as exc:
            result["net"] = type(exc).__name__
        result["interfaces"] = sorted(name for _, name in socket.if_nameindex())
        result["proc"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        print(json.dumps(result))
    """)
    assert rc == 0, err
    result = json.loads(out)
    assert (result["uid"], result["gid"], result["groups"]) == (account.uid, account.gid, [])
    assert result["net"] != "connected" and result["interfaces"] == ["lo"]
    assert result["pid"] <= 3 and max(result["proc"]) <= 3      # a PID namespace of its own


def test_the_course_and_the_reference_are_not_there(run_inside):
    rc, out, err = run_inside(f"""
        import importlib.util, json, os
        seen = {{p: os.path.exists(p) for p in [{str(ROOT / 'gradebook.db')!r}, {str(ROOT / 'source')!r},
                                                {str(ROOT / 'layers_lib')!r}, "/root/.ssh", "/etc/shadow"]}}
        seen["reference"] = importlib.util.find_spec("layers_lib.reference") is not None
        seen["hidden checks"] = importlib.util.find_spec("layers_lib.course") is not None
        import layers_lib.grading.grade
        seen["kit"] = layers_lib.grading.grade.__file__
        print(json.dumps(seen))
    """)
    assert rc == 0, err
    seen = json.loads(out)
    assert not any(v for k, v in seen.items() if k != "kit"), seen
    assert seen["kit"].startswith(runtime_tree("kit"))


def test_the_grader_tree_adds_only_the_hidden_checks(run_inside):
    rc, out, err = run_inside("""
        import importlib.util
        import layers_lib.course.hidden_checks
        print(importlib.util.find_spec("layers_lib.reference") is None,
              importlib.util.find_spec("layers_lib.course.pipeline") is None)
    """, flavour="grader")
    assert rc == 0, err
    assert out.split() == ["True", "True"]


def test_python_and_the_runtime_are_read_only(run_inside):
    import layers_lib
    targets = [os.path.join(runtime_tree("kit"), "layers_lib", "grading", "grade.py"),
               os.path.join(os.path.dirname(os.__file__), "sitecustomize.py"),
               os.path.join(sys.prefix, "lib", "python3.11", "site-packages", "usercustomize.py"),
               layers_lib.__file__]
    rc, out, err = run_inside(f"""
        for path in {targets!r}:
            try:
                with open(path, "a") as f:
                    f.write("print('pwned')")
                print("WROTE", path)
            except OSError as exc:
                print("refused", type(exc).__name__)
    """)
    assert rc == 0, err
    assert "WROTE" not in out and out.count("refused") == len(targets)


def test_limits_stop_fork_bombs_and_huge_files(run_inside):
    rc, out, err = run_inside("""
        import os
        children = 0
        try:
            for _ in range(400):
                if os.fork() == 0:
                    import time; time.sleep(30); os._exit(0)
                children += 1
        except OSError as exc:
            print("fork refused after", children, type(exc).__name__)
        try:
            with open("big", "wb") as f:
                f.write(b"x" * (100 * 2**20))
            print("WROTE 100 MB")
        except OSError as exc:
            print("file refused", type(exc).__name__)
    """, max_processes=64, max_file_mb=16)
    assert "fork refused after" in out and "file refused" in out, (out, err)


def test_processes_left_behind_end_with_the_sandbox(account, tmp_path):
    scratch = Scratch(account)
    try:
        code = ("import subprocess; subprocess.Popen(['sleep', '300'], start_new_session=True);"
                "print('started', flush=True)")
        cmd = SandboxPolicy(account).command([sys.executable, "-c", code], scratch)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert "started" in proc.stdout, proc.stderr
        left = subprocess.run(["pgrep", "-u", str(account.uid), "-f", "sleep 300"], capture_output=True)
        assert left.returncode == 1, left.stdout          # pgrep: 1 = nothing found
    finally:
        scratch.cleanup()


def test_the_kernel_directory_is_locked_after_start(account):
    scratch = Scratch(account)
    try:
        path = os.path.join(scratch.kernel, "connection.json")
        with open(path, "w") as f:
            f.write("{}")
        scratch.give(path)
        assert os.stat(path).st_uid == account.uid and os.stat(path).st_mode & 0o077 == 0
        scratch.lock_kernel_dir()
        assert not os.path.exists(path)
        assert os.stat(scratch.kernel).st_uid == 0 and os.stat(scratch.kernel).st_mode & 0o777 == 0o755
    finally:
        scratch.cleanup()


def test_the_retraining_worker_cannot_read_the_bundled_data_sets(run_inside):
    hidden = dataset_directories()
    assert any(p.endswith(os.path.join("datasets", "data")) for p in hidden)
    rc, out, err = run_inside(f"""
        import os
        print(sorted(os.listdir({hidden[0]!r})))
    """, hidden=hidden)
    assert rc == 0 and out.strip() == "[]", (out, err)


def test_a_sandboxed_worker_grades_like_an_unsandboxed_one():
    from layers_lib.grading.isolation import IsolatedSubmission
    path = ROOT / "demo_submissions" / "ada_complete" / "[1]task8_modules.ipynb"
    launcher = SandboxedWorker()
    try:
        import numpy as np
        x = np.random.RandomState(0).randn(3, 4)
        with IsolatedSubmission(path, launcher=launcher) as inside, IsolatedSubmission(path) as outside:
            got = inside.namespace["ReLU"]().forward(x)
            assert np.array_equal(got, outside.namespace["ReLU"]().forward(x))
            classes = {n: inside.namespace[n] for n in ("Sequential", "Linear", "ReLU", "LogSoftMax")}
            model = inside.call_trusted("layers_lib.recipe:build_model", classes, {"hidden": (5,)})
            assert model.forward(np.zeros((2, 64))).shape == (2, 10)
            with pytest.raises(LookupError, match="may not call"):     # only the listed functions
                inside.call_trusted("layers_lib.recipe:needed_classes", {})
            with pytest.raises(LookupError, match="may not call"):
                inside.call_trusted("os:system", "true")
    finally:
        launcher.close()


# --- submitted files --------------------------------------------------------------------------

def test_links_devices_and_huge_files_are_rejected_never_followed(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "a.ipynb").write_text("{}")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "ok.ipynb").write_text('{"cells": []}')
    os.symlink(tmp_path / "other" / "a.ipynb", sub / "link.ipynb")
    os.symlink("/etc/passwd", sub / "passwd.ipynb")
    os.mkfifo(sub / "fifo.ipynb")
    (sub / "huge.ipynb").write_bytes(b"x" * 2048)
    names = ["ok.ipynb", "link.ipynb", "passwd.ipynb", "fifo.ipynb", "huge.ipynb", "missing.ipynb"]
    accepted, rejected = checked_notebooks(sub, names, max_bytes=1024)
    assert accepted == {"ok.ipynb": b'{"cells": []}'}
    assert "symbolic link" in rejected["link.ipynb"] and "symbolic link" in rejected["passwd.ipynb"]
    assert "FIFO" in rejected["fifo.ipynb"] and "1 KB" not in rejected["huge.ipynb"]
    assert "MB allowed" in rejected["huge.ipynb"] and "not submitted" in rejected["missing.ipynb"]


def test_a_linked_submission_directory_is_rejected(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.ipynb").write_text("{}")
    os.symlink(tmp_path / "real", tmp_path / "linked")
    with pytest.raises(SubmissionFileError, match="symbolic link"):
        check_directory(tmp_path / "linked", below=tmp_path)
    accepted, rejected = checked_notebooks(tmp_path / "linked", ["a.ipynb"], below=tmp_path)
    assert accepted == {} and "symbolic link" in rejected["a.ipynb"]
    assert read_checked(tmp_path / "real" / "a.ipynb") == b"{}"
