"""Grade a submission whose code runs in a separate worker process.

    from layers_lib.grading.isolation import IsolatedSubmission
    with IsolatedSubmission("[1]task8_modules.ipynb") as loaded:
        results = check_submission(loaded)          # or run_class_checks / assert_class_passes

`IsolatedSubmission` has the interface of `loader.LoadedSubmission`, but the student's pieces
run in a fresh interpreter (`_worker.py`) and `namespace` maps each name to a proxy. The README
("Trustworthy grading") has the threat model; in short, what this protects:

* The comparisons run here, on plain data decoded by a restricted decoder (`codec`); any other
  object stays in the worker and arrives as an inert proxy that the comparison engine rejects
  by type (`proxies`). Proxies forward no special methods.
* Monkeypatching in the worker (numpy, unittest, builtins, layers_lib) cannot reach the grader.
  Student code sees a private copy of `builtins`; importing torch or layers_lib there raises
  ImportError, and a static scan (`layers_lib.grading.scan`) fails the classes that use them.
* A hang, a crash, an output flood or a memory bomb fails that call only: the worker is killed
  and a fresh one serves the next class (`channel`). The student's output never reaches the
  grader's stdout/stderr.

Not protected: the worker runs as the same user, with the same filesystem and network. Code
there can read any file the grader can (the reference source, the gradebook), write files,
signal or ptrace the grader, fork (RLIMIT_NPROC is 0, but root ignores it), or compute correct
answers by any means it finds; the scan and the import block stop the obvious ways only, and a
correct-looking plain value forged on the channel is accepted. Run the grading in a container
or under a separate uid for that.

Modules: `submission` (the facade), `channel` (the process), `codec` (the data), `proxies`,
`errors`.
"""
from ..scan import scan_submission
from .channel import WORKER
from .errors import (CallFailed, IsolationError, OutputLimitExceeded, StaleObjectError,
                     SubmissionRaised, WorkerCrashed, WorkerProtocolError, WorkerTimeout)
from .proxies import ForeignValue, RemoteFunction, RemoteMethod, RemoteObject
from .submission import BLOCKED_IMPORTS, IsolatedSubmission

__all__ = ["BLOCKED_IMPORTS", "WORKER", "CallFailed", "ForeignValue", "IsolatedSubmission",
           "IsolationError", "OutputLimitExceeded", "RemoteFunction", "RemoteMethod",
           "RemoteObject", "StaleObjectError", "SubmissionRaised", "WorkerCrashed",
           "WorkerProtocolError", "WorkerTimeout", "scan_submission"]
