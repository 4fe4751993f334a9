#!/usr/bin/env python
"""Where one student's autograde time goes, for a complete, a blank and a partial submission.

    .venv/bin/python benchmarks/bench_student.py [--students ada_complete,ben_blank,cleo_partial]
                                                 [--repeats 3] [--json PATH]

A throw-away course (the repo's nbgrader_config.py and source/task8, every demo student
submitted) is graded two ways, per student:

  cli    `nbgrader autograde task8 --student S --force`: a new process, what an instructor runs;
  unit   `layers_lib.course.grading_unit.grade_unit` in this (warm) process: what a Dask worker
         runs for each student; instrumented, so its time is split into
           unit set-up      the throw-away course directory, the gradebook snapshot
           sanitize         nbgrader's sanitize steps, every notebook
           kernel start     starting [2]'s sandboxed kernel (and restarts, if any)
           [2] setup cell   the imports and the submission's loading in the kernel
           [2] tests        the graded test cells (the isolated worker runs the student's code)
           [0] re-training  RegradeTraining: BEST_RECIPE trained again from the student's [1]
           bookkeeping      nbgrader's other steps: scores, the gradebook, writing autograded/

`cli - unit` is nbgrader's own start (the interpreter, its imports, the app). CPU is this
process's and its reaped children's (kernels, sandboxed workers) user + system time. [0] and
[1] are not executed (nbgrader_config.py: running them earns no points). Numbers are medians over
--repeats runs; other processes on the machine slow everything, so the load is printed.
"""
import argparse
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from corpus.course import demo_course  # noqa: E402

PHASES = ("unit set-up", "sanitize", "kernel start", "[2] setup cell", "[2] tests", "[0] re-training",
          "bookkeeping")


class Probe:
    """Wraps the autograde steps' methods and adds up their seconds by phase."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.cells = defaultdict(float)

    def install(self):
        from nbgrader.converters.base import BaseConverter
        from layers_lib.course.nbgrader_steps.regrade_training import RegradeTraining
        from layers_lib.course.nbgrader_steps.sandboxed_execute import SandboxedExecute
        convert = BaseConverter.convert_single_notebook
        probe = self

        @functools.wraps(convert)
        def converted(self, *args, **kwargs):   # Autograde converts each notebook twice
            start = time.perf_counter()
            try:
                return convert(self, *args, **kwargs)
            finally:
                if getattr(self, "_sanitizing", False):
                    probe.seconds["sanitize"] += time.perf_counter() - start
        BaseConverter.convert_single_notebook = converted
        self._wrap(RegradeTraining, "preprocess", "[0] re-training")
        self._wrap(SandboxedExecute, "start_new_kernel", "kernel start")
        self._wrap(SandboxedExecute, "start_new_kernel_client", "kernel start")
        original = SandboxedExecute.preprocess_cell

        @functools.wraps(original)
        def timed(self, cell, resources, index):
            start = time.perf_counter()
            try:
                return original(self, cell, resources, index)
            finally:
                seconds = time.perf_counter() - start
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index}"
                phase = "[2] setup cell" if grade_id == "setup" else "[2] tests"
                probe.seconds[phase] += seconds
                probe.cells[grade_id] += seconds
        SandboxedExecute.preprocess_cell = timed

    def _wrap(self, cls, name, phase):
        original = cls.__dict__.get(name) or getattr(cls, name)
        if getattr(original, "_probed", False):
            return

        @functools.wraps(original)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - start
        timed._probed = True
        setattr(cls, name, timed)


class CpuMeter:
    """CPU seconds of this process and everything it starts, the sandboxed kernels included.

    A cpuacct cgroup (v1) or a cgroup v2 counts every descendant, wherever it is reaped;
    without one (not root), getrusage counts this process and the children it waited for,
    which misses processes reaped inside the sandboxes' PID namespaces."""

    def __init__(self):
        self.group, self.how = None, "getrusage (sandboxed processes may be missed)"
        for base, counter in (("/sys/fs/cgroup/cpuacct", "cpuacct.usage"), ("/sys/fs/cgroup", "cpu.stat")):
            group = Path(base) / f"bench-student-{os.getpid()}"
            try:
                group.mkdir()
                (group / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                if group.exists():
                    group.rmdir()
                continue
            self.group, self.counter, self.base, self.how = group, counter, Path(base), f"cgroup {group}"
            break

    def seconds(self):
        if self.group is None:
            own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
        text = (self.group / self.counter).read_text()
        if self.counter == "cpu.stat":
            return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6
        return int(text) / 1e9

    def close(self):
        if self.group is not None:
            (self.base / "cgroup.procs").write_text(str(os.getpid()))
            for _ in range(50):         # the last children may still be leaving
                try:
                    self.group.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


METER = None


def _cpu():
    return METER.seconds()


def grade_unit_probed(probe, coursedir, student):
    from layers_lib.course import grading_unit
    from nbgrader.converters import Autograde
    probe.seconds.clear()
    probe.cells.clear()
    snapshot = (Path(coursedir.root) / "gradebook.db").read_bytes()
    unit = grading_unit.pack_unit(coursedir, "task8", student, snapshot)
    autograde_seconds = []
    original = Autograde.start
    def timed_start(self):
        start = time.perf_counter()
        try:
            return original(self)
        finally:
            autograde_seconds.append(time.perf_counter() - start)
    Autograde.start = timed_start
    cpu, start = _cpu(), time.perf_counter()
    try:
        result = grading_unit.grade_unit(unit)
    finally:
        Autograde.start = original
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    phases = dict(probe.seconds)
    phases["unit set-up"] = wall - sum(autograde_seconds)
    phases["bookkeeping"] = sum(autograde_seconds) - sum(v for k, v in probe.seconds.items())
    return result, wall, cpu, phases, dict(probe.cells)


def grade_cli(root, student):
    before, start = _cpu(), time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).with_name("nbgrader")), "autograde", "task8", "--student",
                           student, "--force"], cwd=root, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, _cpu() - before
    if proc.returncode != 0:
        raise SystemExit(f"nbgrader autograde failed for {student}:\n{proc.stderr[-3000:]}")
    return wall, cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", default="ada_complete,ben_blank,cleo_partial")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    students = args.students.split(",")
    from layers_lib.course.parallel import course_directory
    global METER
    METER = CpuMeter()
    try:
        return _run(args, students, course_directory)
    finally:
        METER.close()


def _run(args, students, course_directory):

    with tempfile.TemporaryDirectory(prefix="bench-student-") as tmp:
        root = demo_course(Path(tmp) / "course")
        coursedir = course_directory(root)
        probe = Probe()
        probe.install()
        grade_unit_probed(probe, coursedir, students[0])            # warm this process up
        print(f"{len(students)} students, {args.repeats} runs each, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.2f}; CPU measured by {METER.how}")
        report = {}
        for student in students:
            runs = []
            for _ in range(args.repeats):
                result, wall, cpu, phases, cells = grade_unit_probed(probe, coursedir, student)
                cli_wall, cli_cpu = grade_cli(root, student)
                if not result.ok:
                    raise SystemExit(f"{student} was not graded: {result.error}")
                runs.append({"wall": wall, "cpu": cpu, "phases": phases, "cells": cells,
                             "cli_wall": cli_wall, "cli_cpu": cli_cpu, "score": result.score()})
            med = lambda f: statistics.median(f(r) for r in runs)      # noqa: E731
            summary = {"score": runs[0]["score"], "unit_wall": med(lambda r: r["wall"]),
                       "unit_cpu": med(lambda r: r["cpu"]), "cli_wall": med(lambda r: r["cli_wall"]),
                       "cli_cpu": med(lambda r: r["cli_cpu"]),
                       "phases": {p: med(lambda r: r["phases"].get(p, 0.0)) for p in PHASES},
                       "slowest_cells": sorted(((c, med(lambda r: r["cells"].get(c, 0.0))) for c in runs[0]["cells"]),
                                               key=lambda x: -x[1])[:4]}
            report[student] = summary
            score = summary["score"]
            print(f"\n{student}: {score[0]:g} / {score[1]:g} points")
            print(f"  nbgrader autograde (new process)  {summary['cli_wall']:5.1f} s wall, {summary['cli_cpu']:5.1f} s CPU")
            print(f"  grading unit (warm worker)        {summary['unit_wall']:5.1f} s wall, {summary['unit_cpu']:5.1f} s CPU")
            print(f"    nbgrader's own start            {summary['cli_wall'] - summary['unit_wall']:5.1f} s")
            for phase in PHASES:
                print(f"    {phase:<31} {summary['phases'][phase]:5.1f} s")
            print("    slowest cells: " + ", ".join(f"{c} {s:.2f} s" for c, s in summary["slowest_cells"]))
        print(f"\nload average now {os.getloadavg()[0]:.2f}; target: a complete submission in at most "
              "10 s of one core")
        if args.json:
            args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
