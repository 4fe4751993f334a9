"""Autograde on a real Dask cluster on 127.0.0.1: a `dask scheduler` and `dask worker` processes
started as an instructor would start them on other machines (no nanny, one thread each, no
shared state with this process but the course environment).

- the demo students graded through `--scheduler` give the gradebook of serial `nbgrader autograde`;
- a worker killed (SIGKILL) in the middle of a student: the student is graded again on another
  worker, every student is written exactly once, and the gradebook is still the serial one;
- a worker whose environment cannot grade (no sandbox tools on its PATH) is reported by address
  and gets no unit; with no usable worker nothing is graded and the command says why.
"""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from browser.lab import free_port
from corpus.course import DEMO_STUDENTS, demo_course, gradebook_dump
from layers_lib.course import parallel

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("autograde")]

DASK = str(Path(sys.executable).with_name("dask"))


class Cluster:
    """A scheduler and its workers as separate processes, stopped by pid."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.procs = {}
        self._start("scheduler", [DASK, "scheduler", "--host", "127.0.0.1", "--port",
                                  self.address.rsplit(":", 1)[1], "--no-dashboard"])
        from distributed import Client
        self.client = Client(self.address, timeout="60s")

    def _start(self, name, argv, env=None):
        log = open(self.directory / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.directory,
                                            env=env, start_new_session=True)
        log.close()

    def add_worker(self, name, env=None):
        """Start a worker and return its address once the scheduler knows it."""
        (self.directory / name).mkdir()
        self._start(name, [DASK, "worker", self.address, "--name", name, "--nthreads", "1", "--no-nanny",
                           "--host", "127.0.0.1", "--no-dashboard", "--local-directory",
                           str(self.directory / name)], env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for address, info in self.client.scheduler_info(n_workers=-1)["workers"].items():
                if info.get("name") == name:
                    return address
            assert self.procs[name].poll() is None, self.log(name)
            time.sleep(0.2)
        raise AssertionError(f"worker {name} did not join:\n{self.log(name)}")

    def stop(self, name, sig=signal.SIGTERM):
        proc = self.procs.pop(name)
        if proc.poll() is None:
            os.kill(proc.pid, sig)
        proc.wait(30)

    def log(self, name):
        return (self.directory / f"{name}.log").read_text(errors="replace")[-4000:]

    def close(self):
        self.client.close()
        for name in [n for n in self.procs if n != "scheduler"] + ["scheduler"]:
            self.stop(name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        cluster.workers = [cluster.add_worker("w1"), cluster.add_worker("w2")]
        yield cluster
    finally:
        cluster.close()


def _grade_in_background(root, scheduler, **kwargs):
    outcome = {"lines": []}

    def run():
        try:
            outcome["results"] = parallel.autograde(root, "task8", scheduler=scheduler, log=outcome["lines"].append,
                                                    **kwargs)
        except BaseException as exc:        # SystemExit included: the test reports it
            outcome["error"] = exc
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_a_killed_worker_loses_nothing_and_counts_nothing_twice(cluster, serial_demo_course, tmp_path):
    victim = cluster.add_worker("victim")
    root = demo_course(tmp_path / "course")
    thread, outcome = _grade_in_background(root, cluster.address)
    killed_key = None
    deadline = time.monotonic() + 300
    while killed_key is None and time.monotonic() < deadline and thread.is_alive():
        keys = [k for k in cluster.client.processing(workers=[victim]).get(victim, ()) if "autograde-" in str(k)]
        if keys:
            time.sleep(2.0)                 # well inside the student's 6-10 s of grading
            keys = [k for k in cluster.client.processing(workers=[victim]).get(victim, ())
                    if "autograde-" in str(k)]
            if keys:
                killed_key = str(keys[0])
                cluster.stop("victim", signal.SIGKILL)
        time.sleep(0.1)
    assert killed_key, "the victim worker never got a student to grade"
    thread.join(600)
    assert not thread.is_alive() and "error" not in outcome, outcome.get("error")
    results = outcome["results"]
    killed_student = DEMO_STUDENTS[int(killed_key.rsplit("-", 1)[1])]
    assert sorted(results) == DEMO_STUDENTS
    assert all(r.ok for r in results.values()), {s: r.error for s, r in results.items() if not r.ok}
    assert results[killed_student].worker in cluster.workers      # graded again, elsewhere
    assert all(r.worker != victim for r in results.values())
    progress = [line for line in outcome["lines"] if line.startswith("[")]
    assert sorted(line.split("] ", 1)[1].split(":", 1)[0] for line in progress) == DEMO_STUDENTS
    assert gradebook_dump(root) == gradebook_dump(serial_demo_course)


def test_a_worker_that_cannot_grade_is_reported_and_unused(cluster, serial_demo_course, tmp_path):
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}      # dask runs, bwrap is not found
    broken = cluster.add_worker("broken", env=env)
    try:
        root = demo_course(tmp_path / "course")
        thread, outcome = _grade_in_background(root, cluster.address, students="[ab]*")
        thread.join(600)
    finally:
        cluster.stop("broken")
    assert "error" not in outcome, outcome.get("error")
    assert f"worker {broken} is not used: the sandbox tools are missing: bwrap, setpriv, prlimit " \
           "(apt-get install bubblewrap util-linux)" in outcome["lines"]
    assert any(line == f"autograding 2 students of task8 on {len(cluster.workers)} Dask workers"
               for line in outcome["lines"])
    results = outcome["results"]
    assert sorted(results) == ["ada_complete", "ben_blank"]
    assert all(r.ok and r.worker in cluster.workers for r in results.values())
    serial = gradebook_dump(serial_demo_course)
    assert gradebook_dump(root) == {s: serial[s] for s in results}


def test_with_no_usable_worker_nothing_is_graded_and_the_command_says_why(tmp_path):
    cluster = Cluster(tmp_path)
    try:
        only = cluster.add_worker("only", env={**os.environ, "PATH": str(Path(sys.executable).parent)})
        root = demo_course(tmp_path / "course", notebooks=("[2]task8_test_modules.ipynb",))
        proc = subprocess.run([sys.executable, "-m", "layers_lib.course.parallel", "autograde", "task8",
                               "--root", str(root), "--scheduler", cluster.address],
                              capture_output=True, text=True, timeout=300)
    finally:
        cluster.close()
    assert proc.returncode != 0
    assert f"worker {only} is not used: the sandbox tools are missing" in proc.stdout
    assert "no Dask worker can grade (see above): nothing was graded" in proc.stderr
    assert not (root / "autograded").exists()
