"""Submitted files, checked before anything copies or reads them.

A submission directory is the student's: its entries can be symbolic links (to another
student's notebooks, to /etc/shadow, to the gradebook), FIFOs or devices (a read that never
ends), or huge files. `checked_notebooks` opens each notebook with O_NOFOLLOW and keeps it only
if it is a regular file within the size limit; everything else is rejected with a message and
never followed. The directory itself and its parents below the course root must not be links.
"""
import os
import stat
from pathlib import Path

MAX_NOTEBOOK_BYTES = 20 * 2**20     # a notebook with its outputs is well under 5 MB


class SubmissionFileError(Exception):
    """A submitted file that is not read (a link, not a regular file, too large)."""


def _kind(mode):
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def check_directory(path, below=None):
    """Raise SubmissionFileError if `path` (or a parent of it below `below`) is not a real
    directory: a student must not make their assignment folder a link to someone else's."""
    path = Path(os.path.abspath(path))
    stop = Path(os.path.abspath(below)) if below else path
    for part in [path, *path.parents]:
        mode = os.lstat(part).st_mode
        if not stat.S_ISDIR(mode):
            raise SubmissionFileError(f"{part} is {_kind(mode)}, not a directory: not followed")
        if part == stop:
            break


def read_checked(path, max_bytes=MAX_NOTEBOOK_BYTES):
    """The bytes of `path`, or SubmissionFileError if it is a link, not a regular file or too
    large. The check and the read use one file descriptor (no window for a swap)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        raise SubmissionFileError(f"{os.path.basename(path)} was not submitted") from None
    if not stat.S_ISREG(mode):
        raise SubmissionFileError(f"{os.path.basename(path)} is {_kind(mode)}: rejected, "
                                  "not followed (submit the notebook file itself)")
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise SubmissionFileError(f"{os.path.basename(path)} cannot be opened: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionFileError(f"{os.path.basename(path)} is {_kind(info.st_mode)}: rejected")
        if info.st_size > max_bytes:
            raise SubmissionFileError(
                f"{os.path.basename(path)} is {info.st_size / 2**20:.1f} MB, more than the "
                f"{max_bytes / 2**20:g} MB allowed: clear the outputs and submit again")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > max_bytes:
                raise SubmissionFileError(f"{os.path.basename(path)} grew beyond {max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def checked_notebooks(directory, names, below=None, max_bytes=MAX_NOTEBOOK_BYTES):
    """({name: bytes} of the notebooks in `directory` that pass the checks, {name: why not}).

    Only the listed `names` are considered: other files of a submission (a `layers_lib/` folder,
    a `numpy.py`) never reach a sandbox, so they cannot shadow an import."""
    accepted, rejected = {}, {}
    try:
        check_directory(directory, below)
    except (SubmissionFileError, FileNotFoundError) as exc:
        return {}, {name: str(exc) for name in names}
    for name in names:
        try:
            accepted[name] = read_checked(os.path.join(directory, name), max_bytes)
        except SubmissionFileError as exc:
            rejected[name] = str(exc)
    return accepted, rejected
