"""The state of a course at a glance: who fetched, submitted (late?), was autograded, waits for
manual grading, got feedback, and the scores. It never writes (the gradebook is opened read-only
through nbgrader's API).

    python -m layers_lib.course.status [--root DIR] [--exchange DIR] [--json] [ASSIGNMENT]

Sources: the gradebook, the course directories (submitted/, autograded/, feedback/), the
exchange when readable (inbound/ holds every submission, feedback/ the released feedback) and
the students' home folders when readable (nbgrader's exchange keeps no record of a fetch: `?`).
--root defaults to the current directory when it holds nbgrader_config.py, else the repository.
"""
import argparse
import datetime
import json
import os
import pwd
import sys
from pathlib import Path

from .paths import ASSIGNMENT, ROOT


class StatusError(RuntimeError):
    """No gradebook yet, or the assignment is not in it."""


def load_config(root):
    """nbgrader's configuration as its apps see it in `root`: the Jupyter config path, then root."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config.loader import Config, PyFileConfigLoader
    config = Config()
    for directory in [*reversed(jupyter_config_path()), str(root)]:
        if (Path(directory) / "nbgrader_config.py").is_file():
            config.merge(PyFileConfigLoader("nbgrader_config.py", path=directory).load_config())
    return config


def _exists(path):
    """True, False, or None when a permission hides it."""
    try:
        return os.stat(path) and True
    except FileNotFoundError:
        return False
    except OSError:
        return None


def _read(path, binary=False):
    try:
        return Path(path).read_bytes() if binary else Path(path).read_text().strip()
    except OSError:
        return None


def gather(root, assignment=ASSIGNMENT, exchange=None):
    """{"course", "assignment", "duedate", "released", ..., "students": [one row per student]}."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import notebook_hash, parse_utc
    config = load_config(Path(root).resolve())
    coursedir = CourseDirectory(config=config)
    if "root" not in config.CourseDirectory:
        coursedir.root = str(Path(root).resolve())
    url, course_id = coursedir.db_url, coursedir.course_id or "default_course"
    if url.startswith("sqlite:///"):
        db = url[len("sqlite:///"):]
        if not os.path.isfile(db):
            raise StatusError(f"no gradebook yet ({db}): run `nbgrader generate_assignment {assignment}` "
                              f"in {coursedir.root} first")
        url = f"sqlite:///file:{db}?mode=ro&uri=true"          # read-only: this command never writes
    exchange = Path(exchange or config.Exchange.get("root", "/usr/local/share/nbgrader/exchange")) / course_id
    inbound = {}                                  # {student: [timestamps]} of student+assignment+time+random
    try:
        for parts in (name.rsplit("+", 3) for name in os.listdir(exchange / "inbound")):
            if len(parts) >= 3 and parts[1] == assignment:
                inbound.setdefault(parts[0], []).append(parse_utc(parts[2]))
    except OSError:
        inbound = None                            # not readable from here: unknown
    path = lambda step, s: Path(coursedir.format_path(getattr(coursedir, f"{step}_directory"), s, assignment))
    with Gradebook(url, course_id) as gb:
        try:
            duedate = gb.find_assignment(assignment).duedate
        except MissingEntry:
            known = ", ".join(a.name for a in gb.assignments) or "none"
            raise StatusError(f"assignment {assignment!r} is not in the gradebook (known: {known})") from None
        subs = {s.student_id: s for s in gb.assignment_submissions(assignment)}
        students = {s.id for s in gb.students} | set(inbound or ())
        for step in ("submitted", "autograded", "feedback"):
            students |= {p.parent.name for p in path(step, "*").parent.parent.glob(f"*/{assignment}")}
        rows = []
        for student in sorted(students):
            collected = parse_utc(_read(path("submitted", student) / "timestamp.txt"))
            stamps = sorted((inbound or {}).get(student, [])) or ([collected] if collected else [])
            latest, sub = (stamps[-1] if stamps else None), subs.get(student)
            late = sub.total_seconds_late if sub else (
                max(0.0, (latest - duedate).total_seconds()) if latest and duedate else 0.0)
            try:
                fetched = True if latest else _exists(Path(pwd.getpwnam(student).pw_dir) / assignment)
            except KeyError:                      # no such account here (JupyterHub: another container)
                fetched = None
            row = {"student": student, "fetched": fetched, "submissions": len(stamps) if inbound is not None else None,
                   "submitted": str(latest) if latest else None, "collected": str(collected) if collected else None,
                   "late_seconds": late, "autograded": bool(sub) and path("autograded", student).is_dir(),
                   **dict.fromkeys(("manual_waiting", "feedback", "auto", "manual", "penalty", "total", "max"))}
            if row["autograded"]:
                grades = [g for nb in sub.notebooks for g in nb.grades]
                row.update(auto=sum(g.auto_score or 0 for g in grades if g.manual_score is None),
                           manual=sum(g.manual_score for g in grades if g.manual_score is not None),
                           penalty=sub.late_submission_penalty or 0.0, max=sum(g.max_score for g in grades),
                           manual_waiting=sum(bool(g.needs_manual_grade) for g in grades))
                row["total"] = row["auto"] + row["manual"] - row["penalty"]
            html = sorted(path("feedback", student).glob("*.html"))
            if html:                              # released = the exchange's copy (named by nbgrader's hash) is this file
                secret = _read(path("feedback", student) / "submission_secret.txt")
                out = [_read(exchange / "feedback" / f"{notebook_hash(secret=secret, notebook_id=h.stem)}.html", True)
                       if secret else None for h in html]
                row["feedback"] = ("generated" if not any(out) else "released"
                                   if all(o == h.read_bytes() for o, h in zip(out, html)) else "released (outdated)")
            rows.append(row)
    return {"course": course_id, "assignment": assignment, "root": coursedir.root, "exchange": str(exchange),
            "duedate": str(duedate) if duedate else None, "released": _exists(exchange / "outbound" / assignment),
            "students": rows}


def format_status(status):
    yes = {True: "yes", False: "-", None: "?"}
    lines = [f"course {status['course']}, assignment {status['assignment']}, due "
             f"{status['duedate'] + ' UTC' if status['duedate'] else '(no deadline)'}, "
             f"released to the exchange: {yes[status['released']]}",
             f"course directory {status['root']}; exchange {status['exchange']}", ""]
    table = [("student", "fetched", "submitted (UTC, how many)", "late (h:m:s)", "autograded",
              "to grade (cells)", "feedback", "score: auto + manual - late = total / max")]
    for r in status["students"]:
        stamp = "-" if not r["submitted"] else r["submitted"][:19] + (
            f" ({r['submissions']})" if r["submissions"] is not None else "") + (
            " not collected" if r["collected"] != r["submitted"] else "")
        late = str(datetime.timedelta(seconds=round(r["late_seconds"]))) if r["late_seconds"] else "-"
        score = (f"{r['auto']:g} + {r['manual']:g} - {r['penalty']:g} = {r['total']:g} / {r['max']:g}"
                 if r["autograded"] else "-")
        waiting = "-" if r["manual_waiting"] is None else str(r["manual_waiting"])
        table.append((r["student"], yes[r["fetched"]], stamp, late, yes[r["autograded"]], waiting,
                      r["feedback"] or "-", score))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join(lines + ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("assignment", nargs="?", default=ASSIGNMENT)
    default_root = Path.cwd() if (Path.cwd() / "nbgrader_config.py").is_file() else ROOT
    parser.add_argument("--root", type=Path, default=default_root, help=f"course directory (default: {default_root})")
    parser.add_argument("--exchange", help="exchange root (default: Exchange.root of the configuration)")
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    args = parser.parse_args(argv)
    try:
        status = gather(args.root, args.assignment, args.exchange)
    except StatusError as error:
        print(f"status: {error}", file=sys.stderr)
        return 1
    print(json.dumps(status, indent=1) if args.json else format_status(status))
    return 0


if __name__ == "__main__":
    sys.exit(main())
